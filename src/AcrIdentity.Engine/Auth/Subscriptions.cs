using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>Picks and checks the subscription of a context through an authenticated ARM call.</summary>
    internal static class Subscriptions
    {
        /// <summary>
        /// wanted: an ID or a display name, or null for "the only subscription this identity sees". A GUID is
        /// checked with GET /subscriptions/{id} when validate is set; names and the default need the list.
        /// </summary>
        internal static async Task<ModuleContext> SelectAsync(ModuleContext context, string? wanted, bool validate, IEngineHost host, CancellationToken cancellationToken)
        {
            var gateway = context.CreateGateway(host);
            wanted = string.IsNullOrWhiteSpace(wanted) ? null : wanted!.Trim();
            if (wanted != null && Guid.TryParse(wanted, out _))
            {
                if (!validate) return context.WithSubscription(wanted, null, null);
                ArmResponse reply;
                try
                {
                    reply = await gateway.GetAsync("/subscriptions/" + wanted, cancellationToken).ConfigureAwait(false);
                }
                catch (ArmRequestException ex) when (ex.Status == 404 || ex.Status == 403)
                {
                    throw new EngineException("SubscriptionNotFound", EngineErrorCategory.ObjectNotFound,
                        $"Subscription '{wanted}' was not found, or {context.Account} has no access to it: {ex.ArmMessage}",
                        "Check the subscription ID, and that the identity holds a role on the subscription or on something in it.", "/subscriptions/" + wanted, ex);
                }
                return context.WithSubscription(ArmErrors.Text(reply.Object, "subscriptionId") ?? wanted,
                    ArmErrors.Text(reply.Object, "displayName"), ArmErrors.Text(reply.Object, "tenantId"));
            }

            var all = await gateway.ListAsync("/subscriptions", cancellationToken).ConfigureAwait(false);
            var visible = all.Select(s => (Id: ArmErrors.Text(s, "subscriptionId"), Name: ArmErrors.Text(s, "displayName"), Tenant: ArmErrors.Text(s, "tenantId")))
                .Where(s => s.Id != null).ToList();
            if (wanted != null)
            {
                var matches = visible.Where(s => string.Equals(s.Name, wanted, StringComparison.OrdinalIgnoreCase)).ToList();
                if (matches.Count == 1) return context.WithSubscription(matches[0].Id!, matches[0].Name, matches[0].Tenant);
                if (matches.Count > 1)
                {
                    throw new EngineException("AmbiguousSubscription", EngineErrorCategory.InvalidArgument,
                        $"{matches.Count} subscriptions are named '{wanted}': {List(matches)}.", "Pass the subscription ID instead of its name.");
                }
                throw new EngineException("SubscriptionNotFound", EngineErrorCategory.ObjectNotFound,
                    $"No subscription named '{wanted}' is visible to {context.Account}. Visible: {(visible.Count == 0 ? "none" : List(visible))}.",
                    "Check the name, or pass the subscription ID.");
            }
            if (visible.Count == 1)
            {
                host.WriteVerbose($"Using the only subscription {context.Account} can see: {visible[0].Name} ({visible[0].Id}).");
                return context.WithSubscription(visible[0].Id!, visible[0].Name, visible[0].Tenant);
            }
            if (visible.Count == 0)
            {
                throw new EngineException("NoSubscription", EngineErrorCategory.ObjectNotFound,
                    $"{context.Account} cannot see any subscription in {context.Cloud.Name}.",
                    "Grant the identity a role on a subscription (or on a resource group in it), or connect as an identity that has one.");
            }
            throw new EngineException("SubscriptionRequired", EngineErrorCategory.InvalidArgument,
                $"{context.Account} can see {visible.Count} subscriptions: {List(visible)}. Say which one to use.",
                "Pass -SubscriptionId, or set AZURE_SUBSCRIPTION_ID.");
        }

        private static string List(IEnumerable<(string? Id, string? Name, string? Tenant)> subs)
        {
            var items = subs.Take(10).Select(s => s.Name == null ? s.Id! : $"{s.Name} ({s.Id})").ToList();
            return string.Join(", ", items) + (subs.Count() > 10 ? ", …" : string.Empty);
        }
    }
}
