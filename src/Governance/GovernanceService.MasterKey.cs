using LLMux.Governance.Auth;
using LLMux.Governance.Keys;

namespace LLMux.Governance;

public sealed partial class GovernanceService
{
    private ITimer? _masterRefresh;
    private MasterKeyRotation? _rotation;

    /// <summary>
    /// When the configured <c>general_settings.master_key</c> was replaced by a rotation that this replica follows (the
    /// configured key is refused); null when the configured key is the one in force.
    /// </summary>
    public DateTimeOffset? ConfiguredMasterKeyReplacedAt => _rotation is { } r && r.Overrides(_configuredMasterHash) ? r.RotatedAt : null;

    /// <summary>Whether <paramref name="presented"/> is the master key in force (compared by hash, in constant time).</summary>
    public bool IsMasterKey(string? presented) =>
        !string.IsNullOrEmpty(presented) && VirtualKeys.SameHash(_hashes.HashOf(presented), _masterHash);

    /// <summary>Reads the rotation from the store and follows it; false (and nothing changed) when the store did not answer.</summary>
    internal async Task<bool> RefreshMasterKeyAsync()
    {
        string? stored;
        try
        {
            stored = await Store.FindSettingAsync(MasterKeyRotation.Setting).ConfigureAwait(false);
        }
        catch (NotSupportedException)
        {
            return true;
        }
        catch (Exception ex) when (IsStoreOutage(ex))
        {
            return false;
        }
        Follow(MasterKeyRotation.Parse(stored));
        return true;
    }

    // No hash is this: while it is in force, no key is the master key.
    private const string Withheld = "-";

    /// <summary>
    /// Another replica rotated the master key: the key in force here is refused at once, before the store says which
    /// key replaced it, so the old key stops within Redis's delivery time whatever the database's latency. If the store
    /// does not answer, the key in force stays as it was (a message alone never changes who is admin).
    /// </summary>
    private async Task RotatedElsewhereAsync()
    {
        var before = _masterHash;
        _masterHash = Withheld;
        if (await RefreshMasterKeyAsync().ConfigureAwait(false)) return;
        lock (_following)
            if (_masterHash == Withheld) _masterHash = before;
    }

    private readonly Lock _following = new();

    /// <summary>
    /// Follows a rotation read from the store, unless it is older than the one followed already: reads of the setting
    /// (the timer, a Redis message, this replica's own rotation) can finish out of order, and each rotation replaces
    /// every key the one before it replaced, and more. A stale read must never bring a replaced key back.
    /// </summary>
    private void Follow(MasterKeyRotation? rotation)
    {
        lock (_following)
        {
            if (_rotation is { } current && (rotation is null || rotation.Replaced.Count < current.Replaced.Count)) rotation = current;
            var next = rotation?.InForce(_configuredMasterHash) ?? _configuredMasterHash;
            _rotation = rotation;
            if (next == _masterHash) return;
            _masterHash = next;
            _masterCaller = null;
        }
    }

    /// <summary>How often the rotation is read again: every key-cache TTL, at least once a second.</summary>
    private TimeSpan MasterRefreshPeriod => Options.KeyCacheTtl > TimeSpan.FromSeconds(1) ? Options.KeyCacheTtl : TimeSpan.FromSeconds(1);

    /// <summary>
    /// Makes <paramref name="newKey"/> the master key on every replica (LiteLLM's <c>/key/regenerate</c> with
    /// <c>new_master_key</c>): the rotation is stored with a compare-and-swap, followed here at once and on the other
    /// replicas through Redis (else within a key-cache TTL). The key in force until now is refused from then on.
    /// Returns why not, or null when done.
    /// </summary>
    public async Task<string?> RotateMasterKeyAsync(string newKey, CancellationToken cancellationToken = default)
    {
        var next = VirtualKeys.Hash(newKey);
        if (next == _masterHash) return "`new_master_key` is the master key in force already";
        if (await Store.FindKeyAsync(next, cancellationToken).ConfigureAwait(false) is not null
            || await Store.FindDeprecatedKeyAsync(next, Time.GetUtcNow(), cancellationToken).ConfigureAwait(false) is not null)
            return "`new_master_key` is a virtual key already; choose another";
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var stored = await Store.FindSettingAsync(MasterKeyRotation.Setting, cancellationToken).ConfigureAwait(false);
            var current = MasterKeyRotation.Parse(stored);
            if (current is not null && current.Replaced.Contains(next)) return "`new_master_key` was a master key before; choose one never used";
            var rotation = MasterKeyRotation.Next(current, _masterHash, _configuredMasterHash, next, Time.GetUtcNow());
            if (!await Store.SwapSettingAsync(MasterKeyRotation.Setting, stored, rotation.ToJson(), rotation.RotatedAt, cancellationToken).ConfigureAwait(false)) continue;
            Follow(rotation);
            Invalidation?.Publish(MasterKeyRotation.Setting, "");
            return null;
        }
        return "the master key was being rotated on another replica at the same time; try again";
    }
}
