-- wrk script for bench/callbacks.py: each wrk thread replays its own share of pre-encrypted
-- callbacks (one "path<TAB>body" per line), then repeats them (WeCom-style duplicate deliveries).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  requests = {}
  local n = 0
  for line in io.lines(file) do
    if n % nthreads == id then
      local path, body = line:match("([^\t]+)\t(.*)")
      requests[#requests + 1] = wrk.format("POST", path, { ["Content-Type"] = "text/xml" }, body)
    end
    n = n + 1
  end
  index = 0
  sent = 0
end

function request()
  sent = sent + 1
  index = index + 1
  if index > #requests then index = 1 end
  return requests[index]
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("thread-sent %d %d\n", thread:get("id"), thread:get("sent")))
  end
end
