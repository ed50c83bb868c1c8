using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Errors;

namespace AcrIdentity.Engine.Arm
{
    /// <summary>Turns ARM error replies into ArmRequestException with a category and a fix the user can act on.</summary>
    internal static class ArmErrors
    {
        internal static ArmRequestException FromReply(string method, string? targetId, int status, string? body)
        {
            JsonObject? error = null;
            try
            {
                if (!string.IsNullOrWhiteSpace(body) && JsonNode.Parse(body!) is JsonObject root)
                {
                    // Standard envelope {"error":{…}}; some providers answer {"code","message"} at the top level.
                    error = Property(root, "error") as JsonObject ?? (Property(root, "code") != null ? root : null);
                }
            }
            catch (JsonException)
            {
                // Not JSON (a proxy's HTML page, say): fall back to the status alone.
            }
            return FromError(method, targetId, status, error);
        }

        internal static ArmRequestException FromError(string method, string? targetId, int status, JsonObject? error)
        {
            string? code = Text(error, "code");
            string message = Text(error, "message") ?? DefaultMessage(status);
            string? target = Text(error, "target");
            var details = (Property(error, "details") as JsonArray)?.OfType<JsonObject>()
                .Select(d => Text(d, "code")).Where(c => c != null).Select(c => c!).ToList();
            var (category, action) = Classify(status, code, targetId);
            string reason = Sanitize(code) ?? (status == 0 ? "OperationFailed" : "Http" + status);
            return new ArmRequestException(status, code, message, method, targetId, reason, category, action, target, details);
        }

        internal static (EngineErrorCategory Category, string Action) Classify(int status, string? code, string? targetId)
        {
            string scope = string.IsNullOrEmpty(targetId) ? "the scope" : $"'{targetId}'";
            switch (code?.ToLowerInvariant())
            {
                case "authorizationfailed":
                case "linkedauthorizationfailed":
                    return (EngineErrorCategory.PermissionDenied,
                        $"Ask an Owner or User Access Administrator of {scope} for the permission named in the message, or sign in as an identity that has it. If access was granted moments ago, sign in again to refresh the token.");
                case "principalnotfound":
                    return (EngineErrorCategory.ObjectNotFound,
                        "If the identity was created moments ago it has not replicated yet: wait a minute and run the command again. Otherwise check that the principal (object) ID is right — not the client ID.");
                case "invalidprincipalid":
                    return (EngineErrorCategory.InvalidArgument, "Pass the principal (object) ID of the identity, a GUID — not its client ID or name.");
                case "roleassignmentexists":
                    return (EngineErrorCategory.ResourceExists, "The principal already holds this role at this scope; nothing needs to change.");
                case "roleassignmentupdatenotpermitted":
                    return (EngineErrorCategory.InvalidOperation, "A role assignment's principal and scope cannot change; delete it and create a new one.");
                case "subscriptionnotfound":
                case "invalidsubscriptionid":
                    return (EngineErrorCategory.ObjectNotFound, "Check the subscription ID and that the signed-in identity has access to it.");
                case "resourcegroupnotfound":
                    return (EngineErrorCategory.ObjectNotFound, "Check the resource group name and the subscription (Get-AcrIdentityContext shows the current one).");
                case "resourcenotfound":
                case "notfound":
                case "roleassignmentnotfound":
                case "roledefinitiondoesnotexist":
                    return (EngineErrorCategory.ObjectNotFound, "Check the resource ID or name and the subscription (Get-AcrIdentityContext shows the current one).");
                case "invalidauthenticationtoken":
                case "invalidauthenticationtokenaudience":
                case "invalidauthenticationtokentenant":
                case "expiredauthenticationtoken":
                case "authenticationfailed":
                    return (EngineErrorCategory.AuthenticationError, "Sign in again (Connect-AzAccount or Connect-AcrIdentity) for this cloud and tenant.");
                case "noregisteredproviderfound":
                case "invalidapiversionparameter":
                case "invalidresourcetype":
                    return (EngineErrorCategory.NotImplemented, "This cloud does not offer the resource type or api-version the module uses; check the cloud and region.");
                case "subscriptionrequeststhrottled":
                case "tenantrequeststhrottled":
                case "toomanyrequests":
                    return (EngineErrorCategory.LimitsExceeded, "Azure throttled the requests for longer than the retry budget allows; wait a few minutes and run the command again.");
                case "anotheroperationinprogress":
                case "conflict":
                    return (EngineErrorCategory.InvalidOperation, "Another operation is changing this resource; wait for it to finish and run the command again.");
            }
            if (status == 401) return (EngineErrorCategory.AuthenticationError, "Sign in again (Connect-AzAccount or Connect-AcrIdentity) for this cloud and tenant.");
            if (status == 403) return (EngineErrorCategory.PermissionDenied, $"Sign in as an identity with the needed role on {scope}.");
            if (status == 404) return (EngineErrorCategory.ObjectNotFound, "Check the resource ID or name and the subscription (Get-AcrIdentityContext shows the current one).");
            if (status == 409) return (EngineErrorCategory.InvalidOperation, "The resource is in a state that does not allow this change; check it and run the command again.");
            if (status == 429) return (EngineErrorCategory.LimitsExceeded, "Azure throttled the requests for longer than the retry budget allows; wait a few minutes and run the command again.");
            if (status == 408 || status == 504) return (EngineErrorCategory.OperationTimeout, "Azure did not answer in time; run the command again.");
            if (status >= 500) return (EngineErrorCategory.ResourceUnavailable, "Azure reported a server error that did not clear within the retry budget; run the command again later.");
            if (status >= 400) return (EngineErrorCategory.InvalidArgument, "Azure rejected the request; the message says which value to fix.");
            return (EngineErrorCategory.NotSpecified, "The operation failed in Azure; the message says why. Fix the cause and run the command again.");
        }

        private static string DefaultMessage(int status) => status switch
        {
            0 => "The long-running operation failed without an error description.",
            401 => "ARM refused the credential.",
            403 => "ARM denied the request.",
            404 => "The resource was not found.",
            429 => "ARM throttled the request.",
            _ => $"ARM answered HTTP {status}.",
        };

        private static string? Sanitize(string? code)
        {
            if (string.IsNullOrWhiteSpace(code)) return null;
            var sb = new StringBuilder();
            foreach (char c in code!)
            {
                if (char.IsLetterOrDigit(c)) sb.Append(c);
            }
            return sb.Length == 0 ? null : sb.ToString();
        }

        internal static JsonNode? Property(JsonObject? o, string name)
        {
            if (o == null) return null;
            foreach (var kv in o)
            {
                if (string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)) return kv.Value;
            }
            return null;
        }

        internal static string? Text(JsonObject? o, string name) =>
            Property(o, name) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
    }
}
