-- One door, one request shape per wrk run (bench/run.py starts wrk with this script).
--
--   wrk -s bench/lua/door.lua URL -- MODE PATH TOKEN @IDENTIFIERS_FILE NONCE BATCH THREADS
--
-- MODE: get | put | patch | patch_many | batch_patch | gql_query | gql_update | gql_batch.
-- Writes change the key "seq" on every request ("<nonce>-<thread>-<counter>"), so each one is
-- a real change, never a no-op. patch_many spreads PATCHes over several objects: IDENTIFIER is
-- then a comma-separated list, and PATH holds "{id}" where each request's identifier goes.
-- batch_patch (REST) and gql_batch (updateMetadataBatch) write "seq" of BATCH objects in one
-- request: the next window of BATCH identifiers of the list on every request, windows taken in
-- turn by the THREADS threads, so batches in flight name different objects (a sync).
-- IDENTIFIER may be "@FILE": the identifiers are then read from FILE (longer than an argument).
-- Every answer is checked: a status other than 200, or a GraphQL answer with "errors",
-- counts as bad. done() prints one JSON line that bench/run.py reads.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local mode, path, identifier, nonce
local counter = 0
local prefix, suffix, static_request
local identifiers, path_head, path_tail
local batch, windows, thread_count

-- The ten keys of the benchmark's document: "seq" changes, the rest stay as they are.
local document_prefix = '{"metadata":{"external_id":"id_6c8f1262fdbc","comment":"benchmark",'
  .. '"country":"DE","currency":"EUR","tier":"gold","owner":"partner",'
  .. '"tags":["a","b"],"limits":{"daily":100,"monthly":3000},"active":true,"seq":"'

function init(args)
  mode, path = args[1], args[2]
  identifier, nonce = args[4], args[5] or "0"
  if identifier:sub(1, 1) == "@" then
    local file = assert(io.open(identifier:sub(2)))
    identifier = file:read("*a")
    file:close()
  end
  wrk.headers["Authorization"] = "Bearer " .. args[3]
  local tag = nonce .. "-" .. tostring(id) .. "-"
  if mode == "get" then
    static_request = wrk.format("GET", path)
  elseif mode == "gql_query" then
    wrk.headers["Content-Type"] = "application/json"
    static_request = wrk.format("POST", path, nil,
      '{"query":"{ metadata(linkedObjectType: COUNTERPART, identifier: \\"' .. identifier
      .. '\\") { key value } }"}')
  elseif mode == "put" then
    wrk.headers["Content-Type"] = "application/json"
    prefix, suffix = document_prefix .. tag, '"}}'
  elseif mode == "patch" or mode == "patch_many" then
    wrk.headers["Content-Type"] = "application/json"
    prefix, suffix = '{"metadata":{"seq":"' .. tag, '"}}'
    if mode == "patch_many" then
      identifiers = {}
      for one in string.gmatch(identifier, "[^,]+") do
        table.insert(identifiers, one)
      end
      path_head, path_tail = path:match("^(.*){id}(.*)$")
    end
  elseif mode == "batch_patch" or mode == "gql_batch" then
    wrk.headers["Content-Type"] = "application/json"
    identifiers = {}
    for one in string.gmatch(identifier, "[^,]+") do
      table.insert(identifiers, one)
    end
    prefix = tag
    batch = math.min(tonumber(args[6]) or #identifiers, #identifiers)
    windows = math.floor(#identifiers / batch)
    thread_count = tonumber(args[7]) or 1
  elseif mode == "gql_update" then
    wrk.headers["Content-Type"] = "application/json"
    prefix = '{"query":"mutation Update($input: MetadataInput!) '
      .. '{ updateMetadata(input: $input) { metadata { key value } } }",'
      .. '"variables":{"input":{"linkedObjectType":"COUNTERPART","identifier":"'
      .. identifier .. '","key":"seq","value":"\\"' .. tag
    suffix = '\\""}}}'
  else
    error("unknown mode " .. tostring(mode))
  end
end

-- One batch: the objects of this request's window, each one's "seq" set to this request's value.
local function batch_body(value)
  local items = {}
  local first = (((counter - 1) * thread_count + id - 1) % windows) * batch
  for index = 1, batch do
    local one = identifiers[first + index]
    if mode == "batch_patch" then
      items[index] = '{"id":"' .. one .. '","metadata":{"seq":"' .. value .. '"}}'
    else
      items[index] = '{"linkedObjectType":"COUNTERPART","identifier":"' .. one
        .. '","key":"seq","value":"\\"' .. value .. '\\""}'
    end
  end
  if mode == "batch_patch" then
    return '{"data":[' .. table.concat(items, ",") .. ']}'
  end
  return '{"query":"mutation Batch($input: [MetadataInput!]!) '
    .. '{ updateMetadataBatch(input: $input) { metadata { key } } }",'
    .. '"variables":{"input":[' .. table.concat(items, ",") .. ']}}'
end

function request()
  if static_request then
    return static_request
  end
  counter = counter + 1
  if mode == "batch_patch" then
    return wrk.format("PATCH", path, nil, batch_body(prefix .. counter))
  elseif mode == "gql_batch" then
    return wrk.format("POST", path, nil, batch_body(prefix .. counter))
  end
  if identifiers then
    local target = path_head .. identifiers[counter % #identifiers + 1] .. path_tail
    return wrk.format("PATCH", target, nil, prefix .. counter .. suffix)
  end
  local method = (mode == "put" and "PUT") or (mode == "patch" and "PATCH") or "POST"
  return wrk.format(method, path, nil, prefix .. counter .. suffix)
end

bad = 0 -- global: done() reads it from each thread

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  elseif mode:sub(1, 4) == "gql_" and body:find('"errors"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_bad = 0
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bad":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, total_bad, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
