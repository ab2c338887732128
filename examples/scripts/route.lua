-- Example routing script: send requests for "small-*" models to the backend
-- named "small", everything else to the default choice.
function process(ctx, backends)
  local model = ctx.request.json and ctx.request.json.model or ""
  if model:sub(1, 6) == "small-" then
    return { backend = "small" }
  end
  return {}
end
