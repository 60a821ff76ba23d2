using System.Diagnostics;
using System.Net;
using LLMux.Governance.Limits;
using LLMux.Governance.Shared;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Governance.Shared;

/// <summary>Three replicas sharing one PostgreSQL and one Redis (started by .ci/services.sh), driven round robin.</summary>
public sealed class ReplicaTests
{
    [SkippableFact]
    public async Task Rpm_limit_10_lets_exactly_10_of_30_requests_through_across_three_replicas()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        var key = await cluster.NewKeyAsync("""{"rpm_limit":10}""");
        int ok = 0, limited = 0;
        string? retryAfter = null;
        for (var i = 0; i < 30; i++)
        {
            using var r = await ReplicaCluster.ChatAsync(cluster.Next(), key);
            if (r.StatusCode == HttpStatusCode.OK) ok++;
            else if ((int)r.StatusCode == 429) { limited++; retryAfter ??= r.Headers.GetValues("retry-after").Single(); }
        }
        Assert.Equal(10, ok);
        Assert.Equal(20, limited);
        Assert.Equal(10, cluster.Upstream.Requests.Count);
        // The real time left in the shared 60 s window, not a constant.
        Assert.InRange(int.Parse(retryAfter!, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(0, cluster.Governance(i).Shared!.FallbackCount));
    }

    [SkippableFact]
    public async Task A_budget_is_shared_at_once_so_round_robin_calls_stop_at_the_same_call_on_every_replica()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        // Each call costs 0.000018 (18 tokens at 1 USD per million): the 6th reaches 0.0001.
        var key = await cluster.NewKeyAsync("""{"max_budget":0.0001}""");
        var ok = 0;
        for (var i = 0; i < 12; i++)
        {
            using var r = await ReplicaCluster.ChatAsync(cluster.Next(), key);
            if (r.StatusCode == HttpStatusCode.OK) ok++;
            else
            {
                Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
                Assert.Contains("budget_exceeded", await r.Content.ReadAsStringAsync());
            }
        }
        Assert.Equal(6, ok);
    }

    [SkippableFact]
    public async Task A_call_refused_for_its_budget_counts_against_no_rate_limit_and_finished_calls_give_their_slots_back()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        // Budget, rpm and parallel limits are checked in one Redis script: the 7th call is over budget (6 × 0.000018).
        var key = await cluster.NewKeyAsync("""{"max_budget":0.0001,"rpm_limit":9,"max_parallel_requests":1}""");
        var statuses = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            using var r = await ReplicaCluster.ChatAsync(cluster.Next(), key);
            statuses.Add((int)r.StatusCode);
            if (r.StatusCode != HttpStatusCode.OK) Assert.Contains("budget_exceeded", await r.Content.ReadAsStringAsync());
        }
        // One parallel slot: only a slot given back after each call lets six calls through one after another.
        Assert.Equal([200, 200, 200, 200, 200, 200, 400, 400, 400, 400], statuses);
        await cluster.AdminAsync(0, "/key/update", $$"""{"key":"{{key}}","max_budget":1}""");
        // Six calls counted against rpm 9 (the four refused ones did not): three more pass, the next is limited.
        using (var r = await ReplicaCluster.ChatAsync(cluster.Replicas[0], key))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("2", r.Headers.GetValues("x-ratelimit-api_key-remaining-requests").Single());
        }
        for (var i = 0; i < 2; i++)
        {
            using var r = await ReplicaCluster.ChatAsync(cluster.Replicas[0], key);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        using (var r = await ReplicaCluster.ChatAsync(cluster.Replicas[0], key)) Assert.Equal(429, (int)r.StatusCode);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(0, cluster.Governance(i).Shared!.FallbackCount));
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(0, cluster.Governance(i).SharedLimiter!.LiveLeases));
    }

    [SkippableFact]
    public async Task After_each_call_one_script_frees_its_slot_corrects_its_tokens_and_adds_its_spend_and_a_soft_budget_alerts_once_across_replicas()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        // 0.000018 per call (18 tokens): the soft budget is crossed by the 3rd call, the max budget reached by the 6th.
        var key = await cluster.NewKeyAsync("""{"soft_budget":0.00005,"max_budget":0.0001,"max_parallel_requests":1,"tpm_limit":1000}""");
        var alerts = new System.Collections.Concurrent.ConcurrentBag<(int Replica, decimal Spend)>();
        for (var i = 0; i < 3; i++)
        {
            var replica = i;
            cluster.Governance(i).SoftBudgetCrossed += a => alerts.Add((replica, a.Spend));
        }
        var remaining = new List<int>();
        var ok = 0;
        for (var i = 0; i < 8; i++)
        {
            // One replica for the first three calls (one connection: each call's after-call script runs before the next admission).
            using var r = await ReplicaCluster.ChatAsync(i < 3 ? cluster.Replicas[0] : cluster.Next(), key);
            if (r.StatusCode != HttpStatusCode.OK)
            {
                Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
                continue;
            }
            ok++;
            if (i < 3) remaining.Add(int.Parse(r.Headers.GetValues("x-ratelimit-api_key-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture));
        }
        // max_parallel_requests 1: every call got the slot the one before gave back; the real tokens replaced each estimate.
        Assert.Equal(6, ok);
        Assert.Equal([982, 964, 946], remaining);
        var until = Stopwatch.StartNew();
        while (alerts.IsEmpty && until.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(20);
        await Task.Delay(200);
        var alert = Assert.Single(alerts);
        Assert.Equal(0.000054m, alert.Spend);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(0, cluster.Governance(i).SharedLimiter!.LiveLeases));
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(0, cluster.Governance(i).Shared!.FallbackCount));
    }

    [SkippableFact]
    public async Task Concurrent_calls_overshoot_a_budget_by_at_most_one_in_flight_call_per_replica()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        var key = await cluster.NewKeyAsync("""{"max_budget":0.0001}""");
        var ok = 0;
        // One caller per replica, each with one call in flight at a time, until refused.
        await Task.WhenAll(cluster.Replicas.Select(replica => Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                using var r = await ReplicaCluster.ChatAsync(replica, key);
                if (r.StatusCode != HttpStatusCode.OK) return;
                Interlocked.Increment(ref ok);
            }
        })));
        // 6 calls reach the budget; the other two replicas may each have had one call in flight then.
        Assert.InRange(ok, 6, 6 + 2);
    }

    [SkippableFact]
    public async Task A_key_blocked_on_one_replica_is_refused_on_the_others_within_a_second()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        var key = await cluster.NewKeyAsync("{}");
        // Every replica has the key in its cache (whose TTL is 10 s).
        foreach (var replica in cluster.Replicas)
            using (var r = await ReplicaCluster.ChatAsync(replica, key)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await cluster.AdminAsync(0, "/key/block", $$"""{"key":"{{key}}"}""");
        var clock = Stopwatch.StartNew();
        foreach (var replica in cluster.Replicas.Skip(1))
        {
            while (true)
            {
                using var r = await ReplicaCluster.ChatAsync(replica, key);
                if (r.StatusCode == HttpStatusCode.Unauthorized) break;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"replica still answers {(int)r.StatusCode} for a blocked key after {clock.ElapsedMilliseconds} ms");
                await Task.Delay(20);
            }
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
    }

    [SkippableFact]
    public async Task Max_parallel_requests_count_across_replicas_and_a_dead_replicas_slot_expires()
    {
        var redisUrl = new Uri(TestServices.RedisUrl);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var ns = "lease-" + Guid.NewGuid().ToString("N")[..12];
        await using var a = await RedisLink.ConnectAsync($"{redisUrl.Host}:{redisUrl.Port}", ns);
        await using var b = await RedisLink.ConnectAsync($"{redisUrl.Host}:{redisUrl.Port}", ns);
        var limits = new RateLimits(null, null, 1);
        var dead = new RedisRateLimiter(a, time);
        var (held, _) = await dead.TryAdmitAsync("k", limits, null, default, 0);
        Assert.NotNull(held);
        using var live = new RedisRateLimiter(b, time);
        var (none, refusal) = await live.TryAdmitAsync("k", limits, null, default, 0);
        Assert.Null(none);
        Assert.Contains("max_parallel_requests", refusal!.Message);
        // Replica a dies holding the slot (no release, no renewal): the lease runs out and the key is free again.
        dead.Dispose();
        time.Advance(RedisRateLimiter.LeaseLength + TimeSpan.FromSeconds(1));
        var (next, _) = await live.TryAdmitAsync("k", limits, null, default, 0);
        Assert.NotNull(next);
        // A live replica's lease is renewed while its call runs, and released on its end.
        time.Advance(RedisRateLimiter.LeaseLength / 3);
        time.Advance(RedisRateLimiter.LeaseLength);
        await Task.Delay(200);
        var (stillHeld, _) = await live.TryAdmitAsync("k", limits, null, default, 0);
        Assert.Null(stillHeld);
        next!.Release();
        await Task.Delay(100);
        var (afterRelease, _) = await live.TryAdmitAsync("k", limits, null, default, 0);
        Assert.NotNull(afterRelease);
    }

    [SkippableFact]
    public async Task With_Redis_away_requests_are_answered_and_limits_counted_locally()
    {
        // A port nothing listens on: Redis is down from the start.
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using var cluster = await ReplicaCluster.StartAsync(count: 1, redisHost: "127.0.0.1", redisPort: port);
        var key = await cluster.NewKeyAsync("""{"rpm_limit":2}""");
        var replica = cluster.Replicas[0];
        using (var r = await ReplicaCluster.ChatAsync(replica, key)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await ReplicaCluster.ChatAsync(replica, key)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await ReplicaCluster.ChatAsync(replica, key)) Assert.Equal((HttpStatusCode)429, r.StatusCode);
        Assert.True(cluster.Governance(0).Shared!.FallbackCount >= 3);
    }

    [SkippableFact]
    public async Task A_replica_stopped_under_load_loses_no_spend_row()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        var key = await cluster.NewKeyAsync("{}");
        var ok = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            var replica = cluster.Replicas[i % 3];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var r = await ReplicaCluster.ChatAsync(replica, key);
                    if (r.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref ok);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ObjectDisposedException)
                {
                    if (i % 3 == 2) return; // the stopped replica
                }
            }
        })).ToArray();
        await Task.Delay(1500);
        await cluster.StopAsync(2);
        await Task.Delay(500);
        await stop.CancelAsync();
        await Task.WhenAll(load);
        for (var i = 0; i < 2; i++) await cluster.Governance(i).Writer.FlushAsync();
        Assert.True(ok > 0);
        // Every answered call has its row; a call the server finished as the client gave up (two callers on the
        // stopped replica) may have one too.
        Assert.InRange(await cluster.SpendRowsAsync(key), ok, ok + 2);
    }

    [SkippableFact]
    public async Task A_gateway_process_sent_SIGTERM_under_load_writes_every_spend_row_it_answered()
    {
        await using var cluster = await ReplicaCluster.StartAsync(count: 2);
        await using var process = await GatewayProcess.StartAsync(cluster.Yaml());
        var key = await cluster.NewKeyAsync("{}");
        var ok = 0;
        var processOk = 0;
        using var stop = new CancellationTokenSource();
        var clients = new[] { cluster.Replicas[0].Http, cluster.Replicas[1].Http, process.Http, process.Http };
        var load = clients.Select((http, i) => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
                    {
                        Content = System.Net.Http.Json.JsonContent.Create(new { model = "gpt-test", messages = new[] { new { role = "user", content = "hi" } } }),
                    };
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
                    using var r = await http.SendAsync(request);
                    if (r.StatusCode != HttpStatusCode.OK) continue;
                    Interlocked.Increment(ref ok);
                    if (i >= 2) Interlocked.Increment(ref processOk);
                }
                catch (HttpRequestException) when (i >= 2)
                {
                    return; // the process is gone
                }
            }
        })).ToArray();
        await Task.Delay(2000);
        var exit = await process.TerminateAsync();
        await Task.Delay(300);
        await stop.CancelAsync();
        await Task.WhenAll(load);
        for (var i = 0; i < 2; i++) await cluster.Governance(i).Writer.FlushAsync();
        Assert.Equal(0, exit);
        Assert.True(processOk > 0, process.Output.ToString());
        // Every answered call has its row (a call the process finished as its client saw the connection close may have one too).
        Assert.InRange(await cluster.SpendRowsAsync(key), ok, ok + 2);
    }

    [SkippableFact]
    public async Task Keys_and_spend_survive_restarting_every_replica_and_Redis_forgetting_its_counters()
    {
        await using var cluster = await ReplicaCluster.StartAsync(count: 1);
        var key = await cluster.NewKeyAsync("""{"max_budget":0.00005}""");
        for (var i = 0; i < 2; i++) using (var r = await ReplicaCluster.ChatAsync(cluster.Replicas[0], key)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await cluster.StopAsync(0);
        // The shared counters are gone too (Redis flushed or replaced): the budget is reseeded from PostgreSQL.
        var redis = new Uri(TestServices.RedisUrl);
        using (var direct = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"{redis.Host}:{redis.Port}"))
        {
            foreach (var k in direct.GetServer(redis.Host, redis.Port).Keys(pattern: cluster.Namespace + ":*")) await direct.GetDatabase().KeyDeleteAsync(k);
        }
        var next = await cluster.AddReplicaAsync();
        var info = await cluster.GetAsync(next, "/key/info?key=" + key);
        Assert.Equal(0.000036m, info.GetProperty("info").GetProperty("spend").GetDecimal());
        using (var third = await ReplicaCluster.ChatAsync(cluster.Replicas[next], key)) Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        // 3 × 0.000018 ≥ 0.00005: the fourth call is over budget.
        using var fourth = await ReplicaCluster.ChatAsync(cluster.Replicas[next], key);
        Assert.Equal(HttpStatusCode.BadRequest, fourth.StatusCode);
        // The third call's row is queued when its answer is priced; flush the writer before counting (no timing).
        await cluster.Governance(next).Writer.FlushAsync();
        Assert.Equal(3, await cluster.SpendRowsAsync(key));
    }

    [SkippableFact]
    public async Task A_database_outage_of_ten_seconds_under_load_answers_every_request_and_writes_every_row_after()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        var key = await cluster.NewKeyAsync("{}");
        var ok = 0;
        var failed = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 3).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var r = await ReplicaCluster.ChatAsync(cluster.Replicas[i], key);
                if (r.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref ok);
                else Interlocked.Increment(ref failed);
            }
        })).ToArray();
        await Task.Delay(500);
        cluster.Gate.Close();
        await Task.Delay(TimeSpan.FromSeconds(10));
        var duringOutage = Volatile.Read(ref ok);
        cluster.Gate.Open();
        await Task.Delay(500);
        await stop.CancelAsync();
        await Task.WhenAll(load);
        Assert.Equal(0, failed);
        Assert.True(duringOutage > 0);
        // Everything answered is in the database once it is back.
        var deadline = Stopwatch.StartNew();
        while (await cluster.SpendRowsAsync(key) < ok && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(200);
        Assert.Equal(ok, await cluster.SpendRowsAsync(key));
        Assert.True(Enumerable.Range(0, 3).Sum(i => cluster.Governance(i).Writer.Failures) > 0);
    }
}
