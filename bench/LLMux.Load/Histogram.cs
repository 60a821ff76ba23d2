namespace LLMux.Load;

/// <summary>
/// A log-linear latency histogram (HdrHistogram-style: 2 significant digits over 1 µs .. 10 min), lock-free
/// to record into, fixed memory whatever the count.
/// </summary>
internal sealed class Histogram
{
    private const int SubBuckets = 128;
    private const int Magnitudes = 30;
    private readonly long[] _counts = new long[SubBuckets * Magnitudes];
    private long _total;
    private long _max;

    public long Count => Interlocked.Read(ref _total);

    public void Record(long micros)
    {
        if (micros < 0) micros = 0;
        Interlocked.Increment(ref _counts[Index(micros)]);
        Interlocked.Increment(ref _total);
        long max;
        while (micros > (max = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, micros, max) != max) { }
    }

    private static int Index(long v)
    {
        var magnitude = 0;
        while (v >= SubBuckets && magnitude < Magnitudes - 1) { v >>= 1; magnitude++; }
        return (magnitude * SubBuckets) + (int)Math.Min(v, SubBuckets - 1);
    }

    private static long ValueAt(int index)
    {
        var magnitude = index / SubBuckets;
        var sub = index % SubBuckets;
        return (long)sub << magnitude;
    }

    /// <summary>The value at percentile <paramref name="p"/> (0–100), in microseconds.</summary>
    public long Percentile(double p)
    {
        var total = Count;
        if (total == 0) return 0;
        var target = (long)Math.Ceiling(total * p / 100.0);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= target) return ValueAt(i);
        }
        return Interlocked.Read(ref _max);
    }

    public long Max => Interlocked.Read(ref _max);
}
