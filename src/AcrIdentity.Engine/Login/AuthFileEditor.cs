using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace AcrIdentity.Engine.Login
{
    /// <summary>
    /// Edits docker's config.json / containers' auth.json as text: only the bytes of one auths entry change (or
    /// are inserted); every other byte, including key order, spacing and unknown fields, stays as it was. A JSON
    /// library round trip would reorder, re-indent and re-escape other tools' entries.
    /// </summary>
    internal static class AuthFileEditor
    {
        private static readonly byte[] Bom = { 0xEF, 0xBB, 0xBF };

        /// <summary>What a file says about one registry: its helper (credHelpers entry, else credsStore) if any.</summary>
        internal static string? FindHelper(byte[]? file, string server, out bool fromCredHelpers)
        {
            fromCredHelpers = false;
            if (IsBlank(file)) return null;
            Layout layout = Scan(file!);
            if (layout.CredHelperFor(server) is string helper)
            {
                fromCredHelpers = true;
                return helper;
            }
            return layout.CredsStore;
        }

        internal static bool HasEntry(byte[]? file, string server) => !IsBlank(file) && Scan(file!, server).Entry != null;

        /// <summary>The file with auths[server] set to the given fields (string values), the rest untouched.</summary>
        internal static byte[] SetEntry(byte[]? file, string server, IReadOnlyList<KeyValuePair<string, string>> fields)
        {
            if (IsBlank(file))
            {
                string created = "{\n\t\"auths\": {\n\t\t" + Quote(server) + ": " + Render(fields, "\t\t", "\t", "\n", true) + "\n\t}\n}\n";
                return Encoding.UTF8.GetBytes(created);
            }
            byte[] bytes = file!;
            Layout l = Scan(bytes, server);
            string text = Encoding.UTF8.GetString(bytes, l.Offset, bytes.Length - l.Offset);
            // Offsets from the reader are byte offsets; work in bytes throughout and splice UTF-8 fragments.
            string nl = text.IndexOf("\r\n", StringComparison.Ordinal) >= 0 ? "\r\n" : "\n";
            bool multiline = ContainsNewline(bytes, l.TopStart, l.TopEnd);
            string unit = l.TopMembers.Count > 0 && multiline ? IndentAt(bytes, l.TopMembers[0].NameStart) : "\t";
            if (unit.Length == 0) unit = "\t";

            if (l.Auths is Member nullAuths && nullAuths.Kind == JsonTokenType.Null)
            {
                string indent = multiline ? IndentAt(bytes, nullAuths.NameStart) : string.Empty;
                string value = "{" + (multiline ? nl + indent + unit : string.Empty) + Quote(server) + ": "
                    + Render(fields, indent + unit, unit, nl, multiline) + (multiline ? nl + indent : string.Empty) + "}";
                return Splice(bytes, nullAuths.ValueStart, nullAuths.ValueEnd, value);
            }
            if (l.Auths is Member auths)
            {
                Member? entry = l.Entry;
                if (entry != null)
                {
                    string indent = IndentAt(bytes, entry.NameStart);
                    bool ml = ContainsNewline(bytes, auths.ValueStart, auths.ValueEnd);
                    return Splice(bytes, entry.ValueStart, entry.ValueEnd, Render(fields, indent, Unit(indent, IndentAt(bytes, auths.NameStart), unit), nl, ml));
                }
                if (l.AuthsMembers.Count > 0)
                {
                    Member last = l.AuthsMembers[l.AuthsMembers.Count - 1];
                    string indent = IndentAt(bytes, last.NameStart);
                    bool ml = ContainsNewline(bytes, auths.ValueStart, auths.ValueEnd);
                    string member = "," + (ml ? nl + indent : " ") + Quote(server) + ": " + Render(fields, indent, Unit(indent, IndentAt(bytes, auths.NameStart), unit), nl, ml);
                    return Splice(bytes, last.ValueEnd, last.ValueEnd, member);
                }
                else
                {
                    string outer = multiline ? IndentAt(bytes, auths.NameStart) : string.Empty;
                    string inner = outer + unit;
                    string body = multiline
                        ? nl + inner + Quote(server) + ": " + Render(fields, inner, unit, nl, true) + nl + outer
                        : Quote(server) + ": " + Render(fields, string.Empty, unit, nl, false);
                    // Between the braces of the empty auths object there is only whitespace.
                    return Splice(bytes, auths.ValueStart + 1, auths.ValueEnd - 1, body);
                }
            }

            string authsMember(string indent) =>
                Quote("auths") + ": {" + (multiline ? nl + indent + unit : string.Empty) + Quote(server) + ": "
                + Render(fields, indent + unit, unit, nl, multiline) + (multiline ? nl + indent : string.Empty) + "}";
            if (l.TopMembers.Count > 0)
            {
                Member last = l.TopMembers[l.TopMembers.Count - 1];
                string indent = multiline ? IndentAt(bytes, last.NameStart) : string.Empty;
                return Splice(bytes, last.ValueEnd, last.ValueEnd, "," + (multiline ? nl + indent : " ") + authsMember(indent));
            }
            // An empty top-level object: the new member goes between its braces, multi-line as docker writes.
            string fresh = Quote("auths") + ": {" + nl + unit + unit + Quote(server) + ": " + Render(fields, unit + unit, unit, nl, true) + nl + unit + "}";
            return Splice(bytes, l.TopStart + 1, l.TopEnd - 1, nl + unit + fresh + nl);
        }

        /// <summary>One indentation step, from a member's indent and its parent's.</summary>
        private static string Unit(string child, string parent, string fallback) =>
            child.Length > parent.Length && child.StartsWith(parent, StringComparison.Ordinal) ? child.Substring(parent.Length) : fallback;

        private static string Render(IReadOnlyList<KeyValuePair<string, string>> fields, string indent, string unit, string nl, bool multiline)
        {
            if (fields.Count == 0) return "{}";
            var sb = new StringBuilder("{");
            for (int i = 0; i < fields.Count; i++)
            {
                if (i > 0) sb.Append(',');
                if (multiline) sb.Append(nl).Append(indent).Append(unit);
                sb.Append(Quote(fields[i].Key)).Append(multiline ? ": " : ":").Append(Quote(fields[i].Value));
            }
            if (multiline) sb.Append(nl).Append(indent);
            return sb.Append('}').ToString();
        }

        /// <summary>A JSON string literal; only what JSON requires is escaped (base64's '+' stays '+').</summary>
        internal static string Quote(string s)
        {
            var sb = new StringBuilder(s.Length + 2).Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4"));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }

        private static byte[] Splice(byte[] bytes, int start, int end, string insert)
        {
            byte[] middle = Encoding.UTF8.GetBytes(insert);
            var result = new byte[start + middle.Length + (bytes.Length - end)];
            Buffer.BlockCopy(bytes, 0, result, 0, start);
            Buffer.BlockCopy(middle, 0, result, start, middle.Length);
            Buffer.BlockCopy(bytes, end, result, start + middle.Length, bytes.Length - end);
            return result;
        }

        private static bool ContainsNewline(byte[] bytes, int start, int end)
        {
            for (int i = start; i < end && i < bytes.Length; i++)
            {
                if (bytes[i] == (byte)'\n') return true;
            }
            return false;
        }

        /// <summary>The whitespace that starts the line holding position p.</summary>
        private static string IndentAt(byte[] bytes, int p)
        {
            int lineStart = p;
            while (lineStart > 0 && bytes[lineStart - 1] != (byte)'\n') lineStart--;
            int i = lineStart;
            while (i < p && (bytes[i] == (byte)' ' || bytes[i] == (byte)'\t')) i++;
            return Encoding.ASCII.GetString(bytes, lineStart, i - lineStart);
        }

        private static bool IsBlank(byte[]? file)
        {
            if (file == null) return true;
            for (int i = StartsWithBom(file) ? 3 : 0; i < file.Length; i++)
            {
                byte b = file[i];
                if (b != (byte)' ' && b != (byte)'\t' && b != (byte)'\r' && b != (byte)'\n') return false;
            }
            return true;
        }

        private static bool StartsWithBom(byte[] b) => b.Length >= 3 && b[0] == Bom[0] && b[1] == Bom[1] && b[2] == Bom[2];

        internal sealed class Member
        {
            internal Member(string name, int nameStart, int valueStart, int valueEnd, JsonTokenType kind)
            {
                Name = name;
                NameStart = nameStart;
                ValueStart = valueStart;
                ValueEnd = valueEnd;
                Kind = kind;
            }

            internal string Name { get; }
            internal int NameStart { get; }
            internal int ValueStart { get; }
            /// <summary>Just past the value's last byte.</summary>
            internal int ValueEnd { get; set; }
            internal JsonTokenType Kind { get; }
        }

        internal sealed class Layout
        {
            internal int Offset { get; set; }
            internal int TopStart { get; set; }
            internal int TopEnd { get; set; }
            internal List<Member> TopMembers { get; } = new List<Member>();
            internal Member? Auths { get; set; }
            internal List<Member> AuthsMembers { get; } = new List<Member>();
            internal Member? Entry { get; set; }
            internal string? CredsStore { get; set; }
            internal Dictionary<string, string> CredHelpers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            internal string? CredHelperFor(string server) => CredHelpers.TryGetValue(server, out string? h) && h.Length > 0 ? h : null;
            internal string Server { get; set; } = string.Empty;
        }

        internal static Layout Scan(byte[] bytes, string? server = null)
        {
            var layout = new Layout { Offset = StartsWithBom(bytes) ? 3 : 0, Server = server ?? string.Empty };
            var reader = new Utf8JsonReader(new ReadOnlySpan<byte>(bytes, layout.Offset, bytes.Length - layout.Offset),
                new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
            int o = layout.Offset;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("The file is not a JSON object.");
            }
            layout.TopStart = o + (int)reader.TokenStartIndex;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                int nameStart = o + (int)reader.TokenStartIndex;
                reader.Read();
                var member = new Member(name, nameStart, o + (int)reader.TokenStartIndex, 0, reader.TokenType);
                if (name == "auths" && reader.TokenType == JsonTokenType.Null && layout.Auths == null)
                {
                    layout.Auths = member;
                }
                else if (name == "auths" && reader.TokenType == JsonTokenType.StartObject && layout.Auths == null)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        string key = reader.GetString()!;
                        int keyStart = o + (int)reader.TokenStartIndex;
                        reader.Read();
                        var entry = new Member(key, keyStart, o + (int)reader.TokenStartIndex, 0, reader.TokenType);
                        reader.Skip();
                        entry.ValueEnd = o + (int)reader.BytesConsumed;
                        layout.AuthsMembers.Add(entry);
                    }
                    layout.Auths = member;
                }
                else if (name == "credHelpers" && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        string key = reader.GetString()!;
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String) layout.CredHelpers[key] = reader.GetString()!;
                        else reader.Skip();
                    }
                }
                else if (name == "credsStore" && reader.TokenType == JsonTokenType.String)
                {
                    string store = reader.GetString()!;
                    layout.CredsStore = store.Length == 0 ? null : store;
                }
                else if (name == "auths" && reader.TokenType != JsonTokenType.StartObject && reader.TokenType != JsonTokenType.Null)
                {
                    throw new JsonException("\"auths\" is not an object.");
                }
                else
                {
                    reader.Skip();
                }
                member.ValueEnd = o + (int)reader.BytesConsumed;
                layout.TopMembers.Add(member);
            }
            if (reader.TokenType != JsonTokenType.EndObject)
            {
                throw new JsonException("The file's top-level object is not closed.");
            }
            layout.TopEnd = o + (int)reader.BytesConsumed;
            if (reader.Read())
            {
                throw new JsonException("The file holds more than one JSON value.");
            }
            foreach (Member m in layout.AuthsMembers)
            {
                if (string.Equals(m.Name, layout.Server, StringComparison.OrdinalIgnoreCase))
                {
                    layout.Entry = m;
                    break;
                }
            }
            return layout;
        }
    }
}
