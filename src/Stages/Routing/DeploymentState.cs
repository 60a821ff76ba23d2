using LLMux.Pipeline.Context;

namespace LLMux.Stages.Routing;

/// <summary>
/// What the router knows about one deployment right now: in-flight calls, this minute's requests, failures and
/// tokens, recent latency, and whether it is cooling down. All time comes from the router's <see cref="TimeProvider"/>.
/// </summary>
public sealed class DeploymentState(Deployment deployment, TimeProvider time)
{
    private readonly Lock _lock = new();
    private long _minute = -1;
    private int _requests;
    private int _failures;
    private long _tokens;
    private int _inFlight;
    private long _cooldownUntilTicks;
    private double _latencyMs = -1;

    public Deployment Deployment { get; } = deployment;
    public int InFlight => Volatile.Read(ref _inFlight);
    public double LatencyMs { get { lock (_lock) return _latencyMs; } }

    /// <summary>Max concurrent calls (<c>max_parallel_requests</c>); null is unbounded.</summary>
    public int? MaxParallel { get; } = int.TryParse(deployment.Setting("max_parallel_requests"), out var m) && m > 0 ? m : null;

    public bool IsCoolingDown(DateTimeOffset now) => now.UtcTicks < Interlocked.Read(ref _cooldownUntilTicks);

    public void CoolDown(DateTimeOffset now, TimeSpan duration) => Interlocked.Exchange(ref _cooldownUntilTicks, (now + duration).UtcTicks);

    /// <summary>Cooling down until at least <paramref name="until"/> (a cooldown shared by another replica).</summary>
    public void CoolDownUntil(DateTimeOffset until)
    {
        var ticks = until.UtcTicks;
        for (var current = Interlocked.Read(ref _cooldownUntilTicks); current < ticks; current = Interlocked.Read(ref _cooldownUntilTicks))
            if (Interlocked.CompareExchange(ref _cooldownUntilTicks, ticks, current) == current) return;
    }

    /// <summary>Calls that may wait for a slot when all <see cref="MaxParallel"/> are taken (<c>max_queue</c>, default
    /// <c>max_parallel_requests</c>); beyond that the deployment refuses.</summary>
    public int MaxQueue { get; } = int.TryParse(deployment.Setting("max_queue"), out var q) && q >= 0 ? q
        : int.TryParse(deployment.Setting("max_parallel_requests"), out var mp) && mp > 0 ? mp : 0;

    private readonly SemaphoreSlim? _slots = int.TryParse(deployment.Setting("max_parallel_requests"), out var s) && s > 0 ? new SemaphoreSlim(s, s) : null;
    private int _queued;

    /// <summary>Calls waiting for a slot now.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Admits a call at once when the deployment has a free slot.</summary>
    public bool TryEnter()
    {
        if (_slots is not null && !_slots.Wait(0)) return false;
        Interlocked.Increment(ref _inFlight);
        return true;
    }

    /// <summary>Waits for a slot in the deployment's bounded queue; false (a 429 for the caller) when the queue is full.</summary>
    public async ValueTask<bool> EnterQueuedAsync(CancellationToken cancellationToken)
    {
        if (_slots is null) { Interlocked.Increment(ref _inFlight); return true; }
        if (Interlocked.Increment(ref _queued) > MaxQueue)
        {
            Interlocked.Decrement(ref _queued);
            return false;
        }
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _queued);
        }
        Interlocked.Increment(ref _inFlight);
        return true;
    }

    public void Exit()
    {
        Interlocked.Decrement(ref _inFlight);
        _slots?.Release();
    }

    public (int Requests, int Failures, long Tokens) ThisMinute(DateTimeOffset now)
    {
        lock (_lock)
        {
            Roll(now);
            return (_requests, _failures, _tokens);
        }
    }

    public void RecordSuccess(DateTimeOffset now, TimeSpan latency)
    {
        lock (_lock)
        {
            Roll(now);
            _requests++;
            var ms = latency.TotalMilliseconds;
            _latencyMs = _latencyMs < 0 ? ms : (_latencyMs * 0.8) + (ms * 0.2);
        }
    }

    public int RecordFailure(DateTimeOffset now)
    {
        lock (_lock)
        {
            Roll(now);
            _requests++;
            return ++_failures;
        }
    }

    public void RecordTokens(long tokens)
    {
        lock (_lock)
        {
            Roll(time.GetUtcNow());
            _tokens += tokens;
        }
    }

    private void Roll(DateTimeOffset now)
    {
        var minute = now.ToUnixTimeSeconds() / 60;
        if (minute == _minute) return;
        _minute = minute;
        _requests = 0;
        _failures = 0;
        _tokens = 0;
    }
}
