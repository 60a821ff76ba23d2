using System.Collections;
using LLMux.Governance.Entities;

namespace LLMux.Governance.Spend;

/// <summary>
/// The rows the spend writer hands a store in one write, with a mark made once per batch. Unlogged rows
/// (<c>disable_spend_logs</c>) have no request id for the store to recognise them by, so a batch written again after a
/// commit whose answer was lost (PostgreSQL went away mid-commit) would add their spend twice: the store keeps the mark
/// in the batch's own transaction and skips a batch it already has. The writer retries the same batch, mark and all,
/// and a batch it spills to the local file after trying it keeps its mark there (<see cref="SpendSpill"/>).
/// </summary>
public sealed class SpendBatch : IReadOnlyList<SpendRow>
{
    private readonly SpendRow[] _rows;

    /// <summary>A new batch, with a mark of its own.</summary>
    public SpendBatch(SpendRow[] rows) : this(rows, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))) { }

    /// <summary>A batch tried before (its mark read back from the spill file) or one whose mark is derived from where its rows lie.</summary>
    public SpendBatch(SpendRow[] rows, string mark)
    {
        ArgumentException.ThrowIfNullOrEmpty(mark);
        _rows = rows;
        Mark = mark;
    }

    /// <summary>128 random bits, hex (or, for a spill file's rows never tried, a digest of the file's name and the rows' place in it).</summary>
    public string Mark { get; }

    public SpendRow this[int index] => _rows[index];
    public int Count => _rows.Length;
    public IEnumerator<SpendRow> GetEnumerator() => ((IEnumerable<SpendRow>)_rows).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _rows.GetEnumerator();
}
