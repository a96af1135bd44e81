-- Argo CD health check for the Tollgate kinds (LLMRoute, ProviderCredential, Budget).
-- One script for all three: it reads the Kubernetes-style conditions the operator writes, plus
-- the kind-specific status fields that make a resource unhealthy in practice.
-- Argo CD gives the object as `obj` and expects {status = Healthy|Progressing|Degraded, message}.
local hs = {}

local function condition(status, conditionType)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local status = obj.status
local generation = obj.metadata and obj.metadata.generation

if status == nil or status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Tollgate operator to observe this " .. obj.kind
  return hs
end
if generation ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Tollgate operator to observe generation " .. generation
  return hs
end

local accepted = condition(status, "Accepted")
if accepted ~= nil and accepted.status == "False" then
  hs.status = "Degraded"
  hs.message = (accepted.reason or "NotAccepted") .. ": " .. (accepted.message or "")
  return hs
end

if obj.kind == "ProviderCredential" then
  local secret = condition(status, "SecretResolved")
  if secret ~= nil and secret.status == "False" then
    hs.status = "Degraded"
    hs.message = (secret.reason or "SecretNotResolved") .. ": " .. (secret.message or "")
    return hs
  end
  if status.overallHealth == "Unavailable" then
    hs.status = "Degraded"
    hs.message = "Provider unavailable according to the sidecars' reports"
    return hs
  end
end

if obj.kind == "Budget" and status.phase == "Exceeded" then
  hs.status = "Degraded"
  hs.message = "Budget exceeded: spent " .. (status.spent or "?") .. " of " .. (obj.spec.limit or "?")
  return hs
end

local degraded = condition(status, "Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = (degraded.reason or "Degraded") .. ": " .. (degraded.message or "")
  return hs
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  if obj.kind == "Budget" and status.phase == "Warning" then
    hs.message = "Budget at " .. (status.percentUsed or "?") .. "% of " .. (obj.spec.limit or "?")
  end
  return hs
end

hs.status = "Progressing"
if ready ~= nil then
  hs.message = (ready.reason or "NotReady") .. ": " .. (ready.message or "")
else
  hs.message = "Waiting for the Ready condition"
end
return hs
