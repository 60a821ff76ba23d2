using System.Collections;
using LLMux.Governance.Entities;

namespace LLMux.Governance.Spend;

/// <summary>
/// The rows the spend writer hands a store in one write, with a mark made once per batch. Unlogged rows
/// (<c>disable_spend_logs</c>) have no request id for the store to recognise them by, so a batch written again after a
/// commit whose answer was lost (PostgreSQL went away mid-commit) would add their spend twice: the store keeps the mark
/// in the batch's own transaction and skips a batch it already has. The writer retries the same batch, mark and all.
/// </summary>
public sealed class SpendBatch(SpendRow[] rows) : IReadOnlyList<SpendRow>
{
    private readonly SpendRow[] _rows = rows;

    /// <summary>128 random bits, hex.</summary>
    public string Mark { get; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public SpendRow this[int index] => _rows[index];
    public int Count => _rows.Length;
    public IEnumerator<SpendRow> GetEnumerator() => ((IEnumerable<SpendRow>)_rows).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _rows.GetEnumerator();
}
