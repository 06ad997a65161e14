-- wrk script: the monitoring loop at volume. Each connection POSTs the
-- application in BODY_FILE for a prediction, and reports an outcome (good or
-- bad, at random) for every prediction id a response carries, on the next
-- request of its thread.
local file = assert(io.open(os.getenv("BODY_FILE"), "r"))
local application = file:read("*a")
file:close()

local pending = {}
local headers = { ["Content-Type"] = "application/json" }

request = function()
    local id = table.remove(pending)
    if id then
        local truth = (math.random() < 0.3) and "bad" or "good"
        local body = '{"prediction_id":"' .. id .. '","creditability":"' .. truth .. '"}'
        return wrk.format("POST", "/api/models/credit_risk_model/outcome", headers, body)
    end
    return wrk.format("POST", "/api/models/credit_risk_model/prediction", headers, application)
end

response = function(status, response_headers, body)
    local id = body:match('"prediction_id":"([%x%-]+)"')
    if status == 200 and id then
        table.insert(pending, id)
    end
end
