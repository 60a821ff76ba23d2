using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Governance.Entities;
using LLMux.Governance.Limits;
using LLMux.Governance.Storage;

namespace LLMux.Host.Admin;

/// <summary>
/// LiteLLM's <c>rpm_limit_type</c> / <c>tpm_limit_type</c> on keys, kept in the key's <c>metadata</c> as LiteLLM keeps
/// them. <c>guaranteed_throughput</c>: the key's rpm (tpm) limit, and its per-model ones, must fit in its team's limit
/// beside what the team's other keys already hold, or the write is refused (400, LiteLLM's words);
/// <c>best_effort_throughput</c>: no such check (the limits hold as usual); <c>dynamic</c>: no check either, and the
/// key's rpm (tpm) limit holds only while the model it calls is failing (see <see cref="KeyLimitTypes"/>).
/// A per-model limit must fit under both the team's overall limit and its limit on that model. The check and the write
/// are one step per team (<see cref="AllocationLockAsync"/>).
/// </summary>
internal sealed partial class AdminEndpoints
{
    private static readonly string[] LimitTypes = [KeyLimitTypes.Guaranteed, "best_effort_throughput", KeyLimitTypes.Dynamic];

    /// <summary>The body's <c>rpm_limit_type</c> or <c>tpm_limit_type</c> (also read from <c>metadata</c>), checked; null when absent.</summary>
    private static string? LimitType(AdminBody b, string name)
    {
        var value = b.String(name);
        var where = name;
        if (value is null && b.Element("metadata") is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty(name, out var inMeta) && inMeta.ValueKind != JsonValueKind.Null)
        {
            where = "metadata." + name;
            value = inMeta.ValueKind == JsonValueKind.String ? inMeta.GetString() : inMeta.GetRawText();
        }
        if (value is null) return null;
        if (!LimitTypes.Contains(value))
            b.Problems.Add($"`{where}` must be one of {string.Join(", ", LimitTypes)}, not `{value}`");
        return value;
    }

    /// <summary>The key's metadata with its limit types set (a type given now), removed (sent as null) or kept.</summary>
    private static string WithLimitTypes(AdminBody b, string metadata, string? rpmType, string? tpmType)
    {
        var rpmCleared = b.IsNull("rpm_limit_type");
        var tpmCleared = b.IsNull("tpm_limit_type");
        if (rpmType is null && tpmType is null && !rpmCleared && !tpmCleared) return metadata;
        var node = JsonNode.Parse(metadata) as JsonObject ?? [];
        void Set(string name, string? value, bool cleared)
        {
            if (value is not null) node[name] = value;
            else if (cleared) node.Remove(name);
        }
        Set("rpm_limit_type", rpmType, rpmCleared);
        Set("tpm_limit_type", tpmType, tpmCleared);
        return node.ToJsonString();
    }


    // One gate per team, in process; the store's lock (PostgreSQL's advisory lock) across replicas.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _allocationGates = new();

    /// <summary>
    /// Makes the guaranteed-throughput check of <paramref name="key"/> and its write one step for the team: another
    /// guaranteed key of the same team, on this replica or (with a store that has locks) on any other, waits until this
    /// one is written or refused, so two keys that each fit alone cannot both be admitted. Null when nothing is checked.
    /// </summary>
    private async ValueTask<IAsyncDisposable?> AllocationLockAsync(VirtualKey key, CancellationToken cancellationToken)
    {
        if (key.TeamId is not { } teamId || KeyLimitTypes.UnitsOf(key.Metadata, KeyLimitTypes.Guaranteed) == LimitUnits.None) return null;
        var gate = _allocationGates.GetOrAdd(teamId, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var shared = Store is IGovernanceStoreLocks locks ? await locks.LockAsync("team-allocation:" + teamId, cancellationToken).ConfigureAwait(false) : null;
            return new AllocationLock(gate, shared);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    private sealed class AllocationLock(SemaphoreSlim gate, IAsyncDisposable? shared) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (shared is not null) await shared.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>
    /// Why <paramref name="key"/> (as it is about to be written) would overallocate its team's throughput, or null. The
    /// team's other keys count with their limits whatever their own type, as LiteLLM counts them; the key itself (by
    /// its <paramref name="replacing"/> token too) is not counted twice.
    /// </summary>
    private async Task<string?> OverallocationAsync(VirtualKey key, string? replacing = null)
    {
        var guaranteed = KeyLimitTypes.UnitsOf(key.Metadata, KeyLimitTypes.Guaranteed);
        var rpm = (guaranteed & LimitUnits.Rpm) != 0;
        var tpm = (guaranteed & LimitUnits.Tpm) != 0;
        if ((!rpm && !tpm) || key.TeamId is not { } teamId || await Store.FindTeamAsync(teamId) is not { } team) return null;
        var others = new List<VirtualKey>();
        for (var page = 1; ; page++)
        {
            var (keys, total) = await Store.ListKeysAsync(new KeyQuery(page, 500, TeamId: teamId));
            others.AddRange(keys.Where(k => k.Token != key.Token && k.Token != replacing));
            if (keys.Count == 0 || page * 500 >= total) break;
        }
        return (rpm ? Check("RPM", key.RpmLimit, key.ModelRpmLimit, team.RpmLimit, team.ModelRpmLimit, others.Select(static k => (k.RpmLimit, k.ModelRpmLimit))) : null)
            ?? (tpm ? Check("TPM", key.TpmLimit, key.ModelTpmLimit, team.TpmLimit, team.ModelTpmLimit, others.Select(static k => (k.TpmLimit, k.ModelTpmLimit))) : null);

        static string? Check(string unit, long? mine, IReadOnlyDictionary<string, long> mineByModel, long? teamLimit, IReadOnlyDictionary<string, long> teamByModel,
            IEnumerable<(long? Limit, IReadOnlyDictionary<string, long> ByModel)> others)
        {
            var list = others.ToList();
            string Refusal(long allocated, long key, long limit) => string.Create(CultureInfo.InvariantCulture,
                $"Allocated {unit} limit={allocated} + Key {unit} limit={key} is greater than team {unit} limit={limit}");
            var allocated = list.Sum(static o => o.Limit ?? 0);
            if (mine is { } m && teamLimit is { } t && allocated + m > t) return Refusal(allocated, m, t);
            // A per-model limit fits under the team's overall limit and under its limit on that model, each when set.
            foreach (var (model, limit) in mineByModel)
            {
                var onModel = list.Sum(o => o.ByModel.GetValueOrDefault(model));
                if (teamLimit is { } x && onModel + limit > x) return Refusal(onModel, limit, x);
                if (teamByModel.TryGetValue(model, out var y) && onModel + limit > y) return Refusal(onModel, limit, y);
            }
            return null;
        }
    }
}
