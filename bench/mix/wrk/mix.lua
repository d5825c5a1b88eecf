-- DeathStarBench's social-network mix over the Mastodon API: 60 % home timelines, 30 % account
-- timelines, 10 % posts, each by a random account. wrk -s mix.lua URL -- ACCOUNTS_FILE [SEED]
package.path = package.path .. ";" .. debug.getinfo(1).source:match("@?(.*/)") .. "?.lua"
require "common"

local counter = 0
function init(args)
  load_accounts(args[1])
  counter = counter + 1
  math.randomseed((tonumber(args[2]) or 1) * 1000 + os.time() % 1000 + counter)
end

function request()
  local who = pick()
  local r = math.random(100)
  if r <= 60 then
    return get("/api/v1/timelines/home?limit=20", who)
  elseif r <= 90 then
    return get("/api/v1/accounts/" .. pick().id .. "/statuses?limit=20", who)
  end
  return post(who)
end
