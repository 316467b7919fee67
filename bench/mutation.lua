-- wrk script: `updateContact` on the contacts in $KITH_IDS (comma-separated), round robin,
-- each request setting firstName to a new value, so that every request changes a row (and,
-- with history, records one change). Bearer token in $KITH_TOKEN.
local ids = {}
for id in string.gmatch(os.getenv("KITH_IDS"), "[^,]+") do
  ids[#ids + 1] = id
end
-- Each thread starts at its own place in the list, so that two connections seldom update the
-- same row at once (which would measure row-lock waits, not the write path).
local counter = 0
local thread_tag = tostring(math.random(100000, 999999))

function init(args)
  math.randomseed(os.time() + tonumber(thread_tag))
  counter = math.random(0, #ids - 1)
end
local query = "mutation($id: ID!, $name: String!) { updateContact(id: $id, input: {firstName: $name}) { contact { id version } userErrors { code } } }"
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("KITH_TOKEN"),
}

function request()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  local body = string.format('{"query":"%s","variables":{"id":"%s","name":"w%s-%d"}}',
    query:gsub('"', '\\"'), id, thread_tag, counter)
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"userErrors":%[%]') then
    io.stderr:write("unexpected response: " .. status .. " " .. body .. "\n")
  end
end
