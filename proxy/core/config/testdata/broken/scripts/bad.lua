function process(ctx, data)
  if data.x then
    return { skip = true
  end
end
