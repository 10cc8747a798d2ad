-- wrk walks the bench Site's URL list in order, round and round: the raw loopback limit for
-- exactly the requests the crawlers send. `wrk ... -s walk.lua URL -- URLS_FILE`.
local paths = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
