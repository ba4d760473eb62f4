-- The standard fields (hash field names) and hash field -> API name (the name events report in
-- `changed`). A function, so that only the scripts that use them build them: a table built at
-- the top level here is built on every call of every script.
local function standard_fields()
  return { 'cu', 'si', 'cy', 'ca', 'tl', 'la' },
    { cu = 'customerId', si = 'siteCode', cy = 'currency', ca = 'cartId', tl = 'targetLocation', la = 'language' }
end
