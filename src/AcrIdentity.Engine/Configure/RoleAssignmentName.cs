using System;
using System.Security.Cryptography;
using System.Text;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>
    /// Name-based (RFC 4122 version 5) GUIDs for role assignments: the same scope, principal and role always give
    /// the same name, so a retried or repeated PUT lands on the same assignment instead of making a second one.
    /// </summary>
    internal static class RoleAssignmentName
    {
        // Our own namespace; changing it would make every existing assignment look foreign.
        private static readonly Guid Namespace = new Guid("5b0c3f0e-8e6a-4f5e-9a47-7a1c9d3e2b61");

        internal static string For(string scope, string principalId, string roleDefinitionGuid, string? condition = null)
        {
            string name = scope.TrimEnd('/').ToLowerInvariant() + "|" + principalId.Trim().ToLowerInvariant() + "|" + roleDefinitionGuid.Trim().ToLowerInvariant();
            if (!string.IsNullOrEmpty(condition)) name += "|" + condition;
            return NameBased(Namespace, name).ToString();
        }

        internal static Guid NameBased(Guid ns, string name)
        {
            byte[] nsBytes = ns.ToByteArray();
            SwapToNetworkOrder(nsBytes);
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            byte[] input = new byte[nsBytes.Length + nameBytes.Length];
            Buffer.BlockCopy(nsBytes, 0, input, 0, nsBytes.Length);
            Buffer.BlockCopy(nameBytes, 0, input, nsBytes.Length, nameBytes.Length);
            byte[] hash;
            using (SHA1 sha1 = SHA1.Create())
            {
                hash = sha1.ComputeHash(input);
            }
            byte[] result = new byte[16];
            Array.Copy(hash, result, 16);
            result[6] = (byte)((result[6] & 0x0F) | 0x50);
            result[8] = (byte)((result[8] & 0x3F) | 0x80);
            SwapToNetworkOrder(result);
            return new Guid(result);
        }

        // System.Guid stores the first three fields little-endian; RFC 4122 hashes them big-endian.
        private static void SwapToNetworkOrder(byte[] g)
        {
            Swap(g, 0, 3);
            Swap(g, 1, 2);
            Swap(g, 4, 5);
            Swap(g, 6, 7);
        }

        private static void Swap(byte[] b, int i, int j)
        {
            byte t = b[i];
            b[i] = b[j];
            b[j] = t;
        }
    }
}
