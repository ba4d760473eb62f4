-- wrk script for scripts/bench and scripts/soak: one operation of the Session Context API,
-- spread over many sessions (never one hot key).
--
-- Environment:
--   LOAD_OP        live | get | me | put | post | delete | mixed
--   LOAD_TENANT    the tenant of the seeded sessions
--   LOAD_TOKEN     a management token of that tenant
--   LOAD_SESSIONS  a file written by load/seed.py: "<sessionId> <storefront token>" per line
--   LOAD_THREADS   wrk's -t, so that each thread takes its own share of the sessions
--   LOAD_INSTANCE  (optional) text that starts every value a POST sets: wrk processes run at once
--                  on the same sessions need their own, or the second to set a session's next
--                  value finds it already set (unchanged: no event, a cheaper script)
--
-- Each thread visits its sessions round-robin. A thread has at most (connections / threads)
-- requests in flight and far more sessions than that, so when it comes back to a session its
-- previous request there has been answered: a PUT can send the right version (1 + the PUTs sent
-- before), and a DELETE can name the next of the attributes d0, d1, ... that seed.py created.
-- done() prints one line "LOAD {json}" with the figures scripts/bench and scripts/soak read.

local op = os.getenv("LOAD_OP") or "get"
local tenant = os.getenv("LOAD_TENANT") or "bench"
local management = "Bearer " .. (os.getenv("LOAD_TOKEN") or "")
local threads_total = tonumber(os.getenv("LOAD_THREADS") or "1")
local instance = os.getenv("LOAD_INSTANCE") or ""

local next_thread_id = 0
local all_threads = {}

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
  table.insert(all_threads, thread)
end

local context_path = "/session-context/" .. tenant .. "/context/"
local me_path = "/session-context/" .. tenant .. "/me/context"

local sessions = {}
local visits = {}
local cursor = 0
local counter = 0

function init(args)
  local path = os.getenv("LOAD_SESSIONS")
  if path == nil or op == "live" then return end
  local index = 0
  for line in io.lines(path) do
    local sid, token = line:match("^(%S+)%s+(%S+)$")
    if sid and index % threads_total == thread_id then
      table.insert(sessions, { sid = sid, auth = "Bearer " .. token, path = context_path .. sid })
    end
    index = index + 1
  end
  if #sessions == 0 then error("no sessions for thread " .. thread_id .. " in " .. path) end
end

local function next_session()
  cursor = cursor % #sessions + 1
  local session = sessions[cursor]
  local visit = visits[cursor] or 0
  visits[cursor] = visit + 1
  return session, visit
end

-- A GET or /me request is the same bytes every time it visits a session: it is formatted on the
-- first visit, kept in the session under `slot`, and reused, so that wrk, which shares the
-- machine's cores with the worker, spends no Lua string work per request on them.
local function formatted_once(session, slot, path, authorization)
  local request = session[slot]
  if request == nil then
    request = wrk.format("GET", path, { ["Authorization"] = authorization })
    session[slot] = request
  end
  return request
end

local function get(session)
  return formatted_once(session, "get", session.path, management)
end

local function me(session)
  return formatted_once(session, "me", me_path, session.auth)
end

local function put(session, visit)
  local body = string.format(
    '{"siteCode":"main","currency":"EUR","cartId":"cart-%d","targetLocation":"DE","language":"de",'
      .. '"context":{"legalEntityId":"68cd05d71aeab17fc69f81b7","geo":{"lat":"52.5","lon":"13.4"},'
      .. '"channel":"web","campaign":"c%d"},"metadata":{"version":%d}}',
    visit, visit, visit + 1)
  return wrk.format("PUT", session.path,
    { ["Authorization"] = management, ["Content-Type"] = "application/json" }, body)
end

local function post(session)
  counter = counter + 1
  local body = string.format('{"key":"campaign","value":"c%s%d-%d"}', instance, thread_id, counter)
  return wrk.format("POST", session.path .. "/attributes",
    { ["Authorization"] = management, ["Content-Type"] = "application/json" }, body)
end

local function delete(session, visit)
  return wrk.format("DELETE", session.path .. "/attributes/d" .. visit,
    { ["Authorization"] = management })
end

-- The soak's mix: reads dominate, as in a shop; every write is one that succeeds.
local function mixed(session, visit)
  local pick = visit % 10
  if pick < 5 then return get(session) end
  if pick < 7 then return me(session) end
  if pick < 9 then return post(session) end
  return wrk.format("DELETE", session.path .. "/attributes/campaign",
    { ["Authorization"] = management })
end

local operations = { get = get, me = me, put = put, post = post, delete = delete, mixed = mixed }

-- wrk calls request() once on thread 0 to check the script, and never sends what it returns:
-- answer that call without taking a visit, or thread 0's versions would be off by one.
local checked = false
local live = nil

function request()
  if op == "live" or (thread_id == 0 and not checked) then
    checked = true
    live = live or wrk.format("GET", "/health/live")
    return live
  end
  local session, visit = next_session()
  return operations[op](session, visit)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'LOAD {"op":"%s","requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,'
      .. '"max_ms":%.3f,"errors_status":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_timeout":%d}\n',
    op, summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
