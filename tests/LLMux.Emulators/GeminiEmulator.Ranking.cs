using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// Vertex AI Search's ranking API (Discovery Engine <c>projects/{p}/locations/global/rankingConfigs/{config}:rank</c>), from
/// Google's REST reference: <c>{model, query, records[{id, title, content}] (≤ 200), topN, ignoreRecordDetailsInResponse,
/// userLabels}</c> → <c>{records[{id, title?, content?, score}]}</c> sorted by score, cut to topN; with
/// ignoreRecordDetailsInResponse only id and score. Needs the access token and <c>X-Goog-User-Project</c>. The score
/// is the share of query words found in the record.
/// </summary>
public sealed partial class GeminiEmulator
{
    private static readonly string[] RankFields = ["model", "query", "records", "topN", "ignoreRecordDetailsInResponse", "userLabels"];

    private static async Task RankAsync(HttpContext http, RecordedRequest request, JsonObject body)
    {
        var segments = request.Path.Split('/');
        // /v1/projects/{p}/locations/global/rankingConfigs/{config}:rank
        if (segments.Length != 8 || segments[4] != "locations" || segments[5] != "global" || segments[6] != "rankingConfigs")
        {
            await ErrorAsync(http, 404, "NOT_FOUND", "Ranking config not found: " + request.Path).ConfigureAwait(false);
            return;
        }
        if (request.Headers.GetValueOrDefault("x-goog-user-project") != segments[3])
        {
            await ErrorAsync(http, 403, "PERMISSION_DENIED", "Your application is authenticating by using local Application Default Credentials. The discoveryengine.googleapis.com API requires a quota project, which is not set by default.").ConfigureAwait(false);
            return;
        }
        foreach (var (name, _) in body)
            if (Array.IndexOf(RankFields, name) < 0)
            {
                await ErrorAsync(http, 400, "INVALID_ARGUMENT", $"Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.").ConfigureAwait(false);
                return;
            }
        if (body["query"]?.GetValue<string>() is not { Length: > 0 } query || body["records"] is not JsonArray records || records.Count == 0 || records.Count > 200)
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", "`query` and 1-200 `records` are required.").ConfigureAwait(false);
            return;
        }
        var words = query.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var scored = new List<(JsonObject Record, double Score)>();
        foreach (var node in records)
        {
            if (node is not JsonObject r || r["id"]?.GetValue<string>() is not { Length: > 0 } || (r["title"] is null && r["content"] is null))
            {
                await ErrorAsync(http, 400, "INVALID_ARGUMENT", "Each record needs an `id` and a `title` or `content`.").ConfigureAwait(false);
                return;
            }
            foreach (var (name, _) in r)
                if (name is not ("id" or "title" or "content"))
                {
                    await ErrorAsync(http, 400, "INVALID_ARGUMENT", $"Invalid JSON payload received. Unknown name \"{name}\" at 'records[0]': Cannot find field.").ConfigureAwait(false);
                    return;
                }
            var text = ((r["title"]?.GetValue<string>() ?? "") + " " + (r["content"]?.GetValue<string>() ?? "")).ToLowerInvariant();
            var hits = words.Count(w => text.Contains(w, StringComparison.Ordinal));
            scored.Add((r, Math.Round((double)hits / words.Length, 4)));
        }
        scored.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        var topN = body["topN"]?.GetValue<int>() ?? scored.Count;
        var bare = body["ignoreRecordDetailsInResponse"]?.GetValue<bool>() ?? false;
        var answer = new JsonArray();
        foreach (var (r, score) in scored.Take(topN))
        {
            var o = new JsonObject { ["id"] = r["id"]!.GetValue<string>() };
            if (!bare)
            {
                if (r["title"] is { } t) o["title"] = t.GetValue<string>();
                if (r["content"] is { } c) o["content"] = c.GetValue<string>();
            }
            o["score"] = score;
            answer.Add(o);
        }
        http.Response.ContentType = "application/json; charset=UTF-8";
        await http.Response.WriteAsync(new JsonObject { ["records"] = answer }.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
    }
}
