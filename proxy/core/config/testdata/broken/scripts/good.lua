function process(ctx, data)
  return { skip = false }
end
