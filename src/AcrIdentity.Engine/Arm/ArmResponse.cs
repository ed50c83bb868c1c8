using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;

namespace AcrIdentity.Engine.Arm
{
    /// <summary>A completed ARM call: status, headers (case-insensitive) and the parsed JSON body, if any.</summary>
    public sealed class ArmResponse
    {
        internal ArmResponse(string method, string path, int status, IReadOnlyDictionary<string, string> headers, JsonNode? body)
        {
            Method = method;
            Path = path;
            Status = status;
            Headers = headers;
            Body = body;
        }

        public string Method { get; }
        /// <summary>The resource ID or path the caller asked for (not the polling URL).</summary>
        public string Path { get; }
        public int Status { get; }
        public IReadOnlyDictionary<string, string> Headers { get; }
        public JsonNode? Body { get; }
        public JsonObject? Object => Body as JsonObject;

        public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

        public override string ToString() => $"{Method} {Path} -> {Status}";
    }
}
