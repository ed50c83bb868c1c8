using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AcrIdentity.Sandbox.Arg;

/// <summary>A query the sandbox cannot run; position is 0-based in the query text.</summary>
public sealed class KqlException(string message, int position, string token) : Exception(message)
{
    public int Position { get; } = position;
    public string Token { get; } = token;
}

/// <summary>
/// The KQL subset Resource Graph users need: table | where / project / project-away / extend / order by /
/// sort by / take / limit / top N by / summarize count() by / count / distinct / mv-expand. Expressions: and/or/not,
/// == != =~ !~ &lt; &gt; &lt;= &gt;=, in, in~, !in, !in~, contains, !contains, has, !has, startswith, endswith,
/// contains_cs; functions tolower, toupper, tostring, isnotempty, isempty, isnull, isnotnull, strlen,
/// array_length, strcat; dotted and bracket paths (properties.principalId, identity.userAssignedIdentities['id']).
/// </summary>
public static class Kql
{
    public sealed record Table(IReadOnlyList<string> Columns, List<JsonObject> Rows);

    // ---- tokens ----
    enum T { Ident, Str, Num, Op, End }
    sealed record Tok(T Kind, string Text, int Pos);

    static List<Tok> Lex(string q)
    {
        var toks = new List<Tok>();
        int i = 0;
        string[] ops = ["==", "!=", "=~", "!~", "<=", ">=", "!in~", "in~", "!in", "!contains", "!has", "|", "(", ")", ",", ".", "[", "]", "=", "<", ">", "-", "!"];
        while (i < q.Length)
        {
            char c = q[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '/' && i + 1 < q.Length && q[i + 1] == '/') { while (i < q.Length && q[i] != '\n') i++; continue; }
            if (c is '\'' or '"')
            {
                int start = i++;
                var sb = new System.Text.StringBuilder();
                while (i < q.Length && q[i] != c)
                {
                    if (q[i] == '\\' && i + 1 < q.Length) { sb.Append(q[i + 1]); i += 2; continue; }
                    sb.Append(q[i++]);
                }
                if (i >= q.Length) throw new KqlException("Unterminated string literal.", start, q[start..]);
                i++;
                toks.Add(new Tok(T.Str, sb.ToString(), start));
                continue;
            }
            if (char.IsDigit(c))
            {
                int start = i;
                while (i < q.Length && (char.IsDigit(q[i]) || q[i] == '.')) i++;
                toks.Add(new Tok(T.Num, q[start..i], start));
                continue;
            }
            if (char.IsLetter(c) || c == '_' || c == '$')
            {
                int start = i;
                while (i < q.Length && (char.IsLetterOrDigit(q[i]) || q[i] is '_' or '$')) i++;
                var word = q[start..i];
                // project-away, mv-expand: operator words with a dash.
                if (word is "project" or "mv" && i + 1 < q.Length && q[i] == '-' && char.IsLetter(q[i + 1]))
                {
                    i++;
                    while (i < q.Length && char.IsLetter(q[i])) i++;
                    word = q[start..i];
                }
                if (i < q.Length && q[i] == '~' && word is "in") { i++; word = "in~"; }
                toks.Add(new Tok(T.Ident, word, start));
                continue;
            }
            var op = ops.FirstOrDefault(o => string.CompareOrdinal(q, i, o, 0, o.Length) == 0
                && !(char.IsLetter(o[^1]) && i + o.Length < q.Length && (char.IsLetterOrDigit(q[i + o.Length]) || q[i + o.Length] == '_')));
            if (op is null) throw new KqlException($"Unexpected character '{c}'.", i, c.ToString());
            toks.Add(new Tok(T.Op, op, i));
            i += op.Length;
        }
        toks.Add(new Tok(T.End, "", q.Length));
        return toks;
    }

    // ---- expressions ----
    abstract record Expr;
    sealed record Lit(JsonNode? Value) : Expr;
    sealed record Path(string Root, List<object> Steps) : Expr; // steps: string member or int index
    sealed record Unary(string Op, Expr Operand) : Expr;
    sealed record Binary(string Op, Expr Left, Expr Right) : Expr;
    sealed record InList(bool Negate, bool CaseInsensitive, Expr Left, List<Expr> Items) : Expr;
    sealed record Call(string Name, List<Expr> Args) : Expr;
    sealed record Access(Expr Target, List<object> Steps) : Expr; // bag_keys(x)[0], parse_json(y).a

    sealed class Parser(List<Tok> toks)
    {
        int _p;
        public Tok Peek => toks[_p];
        public Tok Next() => toks[_p++];
        public bool IsOp(string s) => Peek.Kind == T.Op && Peek.Text == s;
        public bool IsWord(string s) => Peek.Kind == T.Ident && Peek.Text.Equals(s, StringComparison.OrdinalIgnoreCase);
        public Tok Expect(string s)
        {
            if (IsOp(s) || IsWord(s)) return Next();
            throw Fail($"Expected '{s}'.");
        }
        public KqlException Fail(string message) => new(message, Peek.Pos, Peek.Text);
        public string Ident()
        {
            if (Peek.Kind != T.Ident) throw Fail("Expected a name.");
            return Next().Text;
        }

        public Expr Expression() => Or();
        Expr Or()
        {
            var l = And();
            while (IsWord("or")) { Next(); l = new Binary("or", l, And()); }
            return l;
        }
        Expr And()
        {
            var l = Not();
            while (IsWord("and")) { Next(); l = new Binary("and", l, Not()); }
            return l;
        }
        Expr Not()
        {
            if (IsWord("not") && toks[_p + 1].Kind == T.Op && toks[_p + 1].Text == "(") { Next(); return new Unary("not", Primary()); }
            return Comparison();
        }
        static readonly string[] CmpOps = ["==", "!=", "=~", "!~", "<=", ">=", "<", ">"];
        static readonly string[] WordOps = ["contains", "!contains", "has", "!has", "startswith", "!startswith", "endswith", "!endswith", "contains_cs", "!contains_cs", "has_cs", "matches"];
        Expr Comparison()
        {
            var l = Primary();
            if (Peek.Kind == T.Op && CmpOps.Contains(Peek.Text)) { var op = Next().Text; return new Binary(op, l, Primary()); }
            if (Peek.Kind == T.Op && Peek.Text is "!in" or "!in~" || IsWord("in") || IsWord("in~") || (Peek.Kind == T.Op && Peek.Text == "in~"))
            {
                var op = Next().Text.ToLowerInvariant();
                Expect("(");
                var items = new List<Expr> { Primary() };
                while (IsOp(",")) { Next(); items.Add(Primary()); }
                Expect(")");
                return new InList(op.StartsWith('!'), op.EndsWith('~'), l, items);
            }
            if (Peek.Kind == T.Op && Peek.Text is "!contains" or "!has")
            {
                var op = Next().Text;
                return new Binary(op, l, Primary());
            }
            if (IsOp("!") && toks[_p + 1].Kind == T.Ident) { Next(); var w = Next().Text.ToLowerInvariant(); return new Binary("!" + w, l, Primary()); }
            if (Peek.Kind == T.Ident && WordOps.Contains(Peek.Text.ToLowerInvariant()))
            {
                var op = Next().Text.ToLowerInvariant();
                if (op == "matches") { Expect("regex"); op = "matches"; }
                return new Binary(op, l, Primary());
            }
            return l;
        }
        public Expr Primary()
        {
            var t = Peek;
            if (t.Kind == T.Str) { Next(); return new Lit(JsonValue.Create(t.Text)); }
            if (t.Kind == T.Num) { Next(); return new Lit(JsonValue.Create(double.Parse(t.Text, CultureInfo.InvariantCulture))); }
            if (IsOp("-") && toks[_p + 1].Kind == T.Num) { Next(); var n = Next(); return new Lit(JsonValue.Create(-double.Parse(n.Text, CultureInfo.InvariantCulture))); }
            if (IsOp("(")) { Next(); var e = Expression(); Expect(")"); return e; }
            if (t.Kind == T.Ident)
            {
                Next();
                if (t.Text is "true" or "false") return new Lit(JsonValue.Create(t.Text == "true"));
                if (t.Text == "null") return new Lit(null);
                if (IsOp("("))
                {
                    Next();
                    var args = new List<Expr>();
                    if (!IsOp(")"))
                    {
                        args.Add(Expression());
                        while (IsOp(",")) { Next(); args.Add(Expression()); }
                    }
                    Expect(")");
                    var call = new Call(t.Text.ToLowerInvariant(), args);
                    var after = Steps();
                    return after.Count == 0 ? call : new Access(call, after);
                }
                return new Path(t.Text, Steps());
            }
            throw Fail($"Unexpected token '{t.Text}'.");
        }

        List<object> Steps()
        {
            var steps = new List<object>();
            while (true)
            {
                if (IsOp(".")) { Next(); steps.Add(Ident()); continue; }
                if (IsOp("["))
                {
                    Next();
                    var k = Next();
                    if (k.Kind == T.Str) steps.Add(k.Text);
                    else if (k.Kind == T.Num) steps.Add(int.Parse(k.Text, CultureInfo.InvariantCulture));
                    else throw new KqlException("Expected a string or index.", k.Pos, k.Text);
                    Expect("]");
                    continue;
                }
                break;
            }
            return steps;
        }
    }

    static JsonNode? Member(JsonNode? node, object step)
    {
        if (step is int i) return node is JsonArray a && i >= 0 && i < a.Count ? a[i] : null;
        if (node is not JsonObject o) return null;
        var key = (string)step;
        if (o.TryGetPropertyValue(key, out var v)) return v;
        foreach (var (k, val) in o) if (k.Equals(key, StringComparison.OrdinalIgnoreCase)) return val;
        return null;
    }

    static string? Str(JsonNode? n) => n switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString(CultureInfo.InvariantCulture),
        _ => n.ToJsonString(),
    };

    static double? Num(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var d) ? d
        : double.TryParse(Str(n), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) ? p : null;

    static bool IsNum(JsonNode? n) => n is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number;

    static bool Truthy(JsonNode? n) => n is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    static bool Empty(JsonNode? n) => n is null || (n is JsonValue && Str(n) is "" or null);

    static JsonNode? Eval(Expr e, JsonObject row)
    {
        switch (e)
        {
            case Lit l: return l.Value?.DeepClone();
            case Path p:
            {
                JsonNode? cur = Member(row, p.Root);
                foreach (var s in p.Steps) cur = Member(cur, s);
                return cur?.DeepClone();
            }
            case Unary u: return JsonValue.Create(!Truthy(Eval(u.Operand, row)));
            case InList il:
            {
                var left = Str(Eval(il.Left, row));
                var cmp = il.CaseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
                bool found = left is not null && il.Items.Any(i => cmp.Equals(left, Str(Eval(i, row))));
                return JsonValue.Create(found != il.Negate);
            }
            case Binary b:
            {
                if (b.Op == "and") return JsonValue.Create(Truthy(Eval(b.Left, row)) && Truthy(Eval(b.Right, row)));
                if (b.Op == "or") return JsonValue.Create(Truthy(Eval(b.Left, row)) || Truthy(Eval(b.Right, row)));
                var ln = Eval(b.Left, row);
                var rn = Eval(b.Right, row);
                string ls = Str(ln) ?? "", rs = Str(rn) ?? "";
                bool neg = b.Op.StartsWith('!') && b.Op.Length > 2;
                var op = neg ? b.Op[1..] : b.Op;
                bool r = op switch
                {
                    "==" => ln is not null && rn is not null && (IsNum(ln) && IsNum(rn) ? Num(ln) == Num(rn) : ls == rs),
                    "!=" => !(ln is not null && rn is not null && ls == rs),
                    "=~" => ln is not null && rn is not null && ls.Equals(rs, StringComparison.OrdinalIgnoreCase),
                    "!~" => !(ln is not null && rn is not null && ls.Equals(rs, StringComparison.OrdinalIgnoreCase)),
                    "<" or ">" or "<=" or ">=" => Compare(ln, rn, op),
                    "contains" => ls.Contains(rs, StringComparison.OrdinalIgnoreCase),
                    "contains_cs" => ls.Contains(rs, StringComparison.Ordinal),
                    "has" => Has(ls, rs, StringComparison.OrdinalIgnoreCase),
                    "has_cs" => Has(ls, rs, StringComparison.Ordinal),
                    "startswith" => ls.StartsWith(rs, StringComparison.OrdinalIgnoreCase),
                    "endswith" => ls.EndsWith(rs, StringComparison.OrdinalIgnoreCase),
                    "matches" => Regex.IsMatch(ls, rs),
                    _ => throw new KqlException($"Operator '{b.Op}' is not supported.", 0, b.Op),
                };
                return JsonValue.Create(neg ? !r : r);
            }
            case Call c: return CallFn(c, row);
            case Access a:
            {
                var cur = Eval(a.Target, row);
                foreach (var st in a.Steps) cur = Member(cur, st);
                return cur?.DeepClone();
            }
        }
        return null;
    }

    static bool Compare(JsonNode? l, JsonNode? r, string op)
    {
        if (Num(l) is { } a && Num(r) is { } b)
            return op switch { "<" => a < b, ">" => a > b, "<=" => a <= b, _ => a >= b };
        var c = string.CompareOrdinal(Str(l), Str(r));
        return op switch { "<" => c < 0, ">" => c > 0, "<=" => c <= 0, _ => c >= 0 };
    }

    // "has" matches whole terms: the needle bounded by non-alphanumerics.
    static bool Has(string hay, string needle, StringComparison cmp)
    {
        if (needle.Length == 0) return true;
        for (int i = hay.IndexOf(needle, cmp); i >= 0; i = hay.IndexOf(needle, i + 1, cmp))
        {
            bool startOk = i == 0 || !char.IsLetterOrDigit(hay[i - 1]);
            int end = i + needle.Length;
            bool endOk = end == hay.Length || !char.IsLetterOrDigit(hay[end]);
            if (startOk && endOk) return true;
        }
        return false;
    }

    static JsonNode? CallFn(Call c, JsonObject row)
    {
        JsonNode? A(int i) => i < c.Args.Count ? Eval(c.Args[i], row) : throw new KqlException($"Function '{c.Name}' needs more arguments.", 0, c.Name);
        return c.Name switch
        {
            "tolower" => Str(A(0)) is { } s ? JsonValue.Create(s.ToLowerInvariant()) : null,
            "toupper" => Str(A(0)) is { } s ? JsonValue.Create(s.ToUpperInvariant()) : null,
            "tostring" => JsonValue.Create(Str(A(0)) ?? ""),
            "isnotempty" => JsonValue.Create(!Empty(A(0))),
            "isempty" => JsonValue.Create(Empty(A(0))),
            "isnull" => JsonValue.Create(A(0) is null),
            "isnotnull" => JsonValue.Create(A(0) is not null),
            "strlen" => JsonValue.Create((double)(Str(A(0)) ?? "").Length),
            "array_length" => A(0) is JsonArray a ? JsonValue.Create((double)a.Count) : null,
            "strcat" => JsonValue.Create(string.Concat(c.Args.Select(x => Str(Eval(x, row)) ?? ""))),
            "tolong" or "toint" => Num(A(0)) is { } d ? JsonValue.Create(Math.Truncate(d)) : null,
            "bag_keys" => A(0) is JsonObject o ? new JsonArray(o.Select(kv => (JsonNode?)JsonValue.Create(kv.Key)).ToArray()) : null,
            "iff" or "iif" => Truthy(A(0)) ? A(1) : A(2),
            _ => throw new KqlException($"Function '{c.Name}' is not supported by the sandbox.", 0, c.Name),
        };
    }

    /// <summary>Column name for an unnamed projected expression: the dotted path joined with '_'.</summary>
    static string DefaultName(Expr e, int index) => e switch
    {
        Path p => string.Join('_', new[] { p.Root }.Concat(p.Steps.Select(s => s.ToString()!))),
        _ => "Column" + (index + 1),
    };

    // ---- the pipeline ----

    /// <summary>Runs the query; <paramref name="tables"/> maps a lowercase table name to its rows.</summary>
    public static Table Run(string query, Func<string, List<JsonObject>?> tables)
    {
        var toks = Lex(query);
        var p = new Parser(toks);
        var tableName = p.Ident();
        var rows = tables(tableName.ToLowerInvariant()) ?? throw new KqlException($"Table '{tableName}' is not supported.", 0, tableName);
        var columns = rows.FirstOrDefault()?.Select(kv => kv.Key).ToList()
            ?? ["id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy", "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation"];

        while (p.IsOp("|"))
        {
            p.Next();
            var opTok = p.Peek;
            var op = p.Ident().ToLowerInvariant();
            switch (op)
            {
                case "where":
                {
                    var e = p.Expression();
                    rows = rows.Where(r => Truthy(Eval(e, r))).ToList();
                    break;
                }
                case "project":
                case "extend":
                {
                    var items = new List<(string Name, Expr E)>();
                    do
                    {
                        if (items.Count > 0) p.Next();
                        if (p.Peek.Kind == T.Ident && p.Peek is var nameTok && PeekIsAssign(toks, nameTok))
                        {
                            var name = p.Ident();
                            p.Expect("=");
                            items.Add((name, p.Expression()));
                        }
                        else
                        {
                            var e = p.Expression();
                            items.Add((DefaultName(e, items.Count), e));
                        }
                    } while (p.IsOp(","));
                    rows = rows.Select(r =>
                    {
                        var o = op == "extend" ? (JsonObject)r.DeepClone() : new JsonObject();
                        foreach (var (n, e) in items) o[n] = Eval(e, r);
                        return o;
                    }).ToList();
                    columns = op == "extend" ? columns.Concat(items.Select(i => i.Name).Where(n => !columns.Contains(n))).ToList() : items.Select(i => i.Name).ToList();
                    break;
                }
                case "project-away":
                {
                    var away = new List<string> { p.Ident() };
                    while (p.IsOp(",")) { p.Next(); away.Add(p.Ident()); }
                    foreach (var r in rows) foreach (var a in away) r.Remove(a);
                    columns = columns.Where(c => !away.Contains(c)).ToList();
                    break;
                }
                case "order":
                case "sort":
                {
                    p.Expect("by");
                    var keys = new List<(Expr E, bool Desc)>();
                    do
                    {
                        if (keys.Count > 0) p.Next();
                        var e = p.Expression();
                        bool desc = true; // KQL sorts descending unless told otherwise
                        if (p.IsWord("asc")) { p.Next(); desc = false; }
                        else if (p.IsWord("desc")) p.Next();
                        keys.Add((e, desc));
                    } while (p.IsOp(","));
                    IOrderedEnumerable<JsonObject>? ordered = null;
                    foreach (var (e, desc) in keys)
                    {
                        Func<JsonObject, string> key = r => SortKey(Eval(e, r));
                        ordered = ordered is null
                            ? (desc ? rows.OrderByDescending(key, StringComparer.Ordinal) : rows.OrderBy(key, StringComparer.Ordinal))
                            : (desc ? ordered.ThenByDescending(key, StringComparer.Ordinal) : ordered.ThenBy(key, StringComparer.Ordinal));
                    }
                    rows = ordered!.ToList();
                    break;
                }
                case "take":
                case "limit":
                {
                    var n = (int)(Num(Eval(p.Primary(), new JsonObject())) ?? 0);
                    rows = rows.Take(n).ToList();
                    break;
                }
                case "top":
                {
                    var n = (int)(Num(Eval(p.Primary(), new JsonObject())) ?? 0);
                    p.Expect("by");
                    var e = p.Expression();
                    bool desc = true;
                    if (p.IsWord("asc")) { p.Next(); desc = false; } else if (p.IsWord("desc")) p.Next();
                    rows = (desc ? rows.OrderByDescending(r => SortKey(Eval(e, r)), StringComparer.Ordinal) : rows.OrderBy(r => SortKey(Eval(e, r)), StringComparer.Ordinal)).Take(n).ToList();
                    break;
                }
                case "mv-expand":
                {
                    string? name = null;
                    if (p.Peek.Kind == T.Ident && PeekIsAssign(toks, p.Peek)) { name = p.Ident(); p.Expect("="); }
                    var e = p.Expression();
                    name ??= DefaultName(e, columns.Count);
                    var expanded = new List<JsonObject>();
                    foreach (var r in rows)
                    {
                        var v = Eval(e, r);
                        IEnumerable<JsonNode?> items = v switch
                        {
                            JsonArray arr => arr.Select(x => x?.DeepClone()).ToList(),
                            // A property bag expands into one single-key bag per member.
                            JsonObject bag => bag.Select(kv => (JsonNode?)new JsonObject { [kv.Key] = kv.Value?.DeepClone() }).ToList(),
                            _ => [v],
                        };
                        foreach (var item in items)
                        {
                            var o = (JsonObject)r.DeepClone();
                            o[name] = item;
                            expanded.Add(o);
                        }
                    }
                    rows = expanded;
                    if (!columns.Contains(name)) columns = columns.Append(name).ToList();
                    break;
                }
                case "count":
                    rows = [new JsonObject { ["Count"] = rows.Count }];
                    columns = ["Count"];
                    break;
                case "distinct":
                {
                    var cols = new List<Expr> { p.Expression() };
                    while (p.IsOp(",")) { p.Next(); cols.Add(p.Expression()); }
                    var names = cols.Select((c, i) => DefaultName(c, i)).ToList();
                    rows = rows.Select(r =>
                        {
                            var o = new JsonObject();
                            for (int i = 0; i < cols.Count; i++) o[names[i]] = Eval(cols[i], r);
                            return o;
                        })
                        .GroupBy(o => o.ToJsonString()).Select(g => g.First()).ToList();
                    columns = names;
                    break;
                }
                case "summarize":
                {
                    var aggName = "count_";
                    if (p.Peek.Kind == T.Ident && PeekIsAssign(toks, p.Peek)) { aggName = p.Ident(); p.Expect("="); }
                    var fn = p.Ident().ToLowerInvariant();
                    if (fn != "count") throw new KqlException($"Aggregation '{fn}' is not supported by the sandbox (only count()).", opTok.Pos, fn);
                    p.Expect("("); p.Expect(")");
                    var by = new List<(string Name, Expr E)>();
                    if (p.IsWord("by"))
                    {
                        p.Next();
                        do
                        {
                            if (by.Count > 0) p.Next();
                            if (p.Peek.Kind == T.Ident && PeekIsAssign(toks, p.Peek)) { var n = p.Ident(); p.Expect("="); by.Add((n, p.Expression())); }
                            else { var e = p.Expression(); by.Add((DefaultName(e, by.Count), e)); }
                        } while (p.IsOp(","));
                    }
                    rows = rows.GroupBy(r => new JsonArray(by.Select(b => Eval(b.E, r)).ToArray()).ToJsonString())
                        .Select(g =>
                        {
                            var o = new JsonObject();
                            foreach (var (n, e) in by) o[n] = Eval(e, g.First());
                            o[aggName] = g.Count();
                            return o;
                        }).ToList();
                    columns = by.Select(b => b.Name).Append(aggName).ToList();
                    break;
                }
                default:
                    throw new KqlException($"The operator '{op}' is not supported by the sandbox.", opTok.Pos, opTok.Text);
            }
        }
        if (p.Peek.Kind != T.End) throw p.Fail($"Unexpected token '{p.Peek.Text}'.");
        return new Table(columns, rows);
    }

    static bool PeekIsAssign(List<Tok> toks, Tok nameTok)
    {
        var i = toks.IndexOf(nameTok);
        return i >= 0 && i + 1 < toks.Count && toks[i + 1].Kind == T.Op && toks[i + 1].Text == "=";
    }

    static string SortKey(JsonNode? n) => Num(n) is { } d && n is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number
        ? d.ToString("000000000000000.000000", CultureInfo.InvariantCulture)
        : Str(n) ?? "";
}
