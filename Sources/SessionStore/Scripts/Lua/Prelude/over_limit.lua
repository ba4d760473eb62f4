-- Whether a context would hold more attributes than allowed.
local function over_limit(count)
  return max_attributes > 0 and count > max_attributes
end
