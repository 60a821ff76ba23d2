using LLMux.Emulators;
using LLMux.Governance;
using LLMux.Governance.Entities;
using LLMux.Governance.Keys;
using LLMux.Governance.Storage.Sqlite;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LLMux.Tests.Governance;

/// <summary><c>AddLLMux(...).AddGovernance(...)</c>: the same stage in a .NET host's own pipeline.</summary>
public sealed class AddGovernanceTests
{
    [Fact]
    public async Task The_library_pipeline_enforces_a_keys_models()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        using var store = SqliteGovernanceStore.InMemory();
        var services = new ServiceCollection();
        services.AddLLMux(b => b
            .AddDeployment("allowed", "openai/gpt-4o-mini", upstream.ApiBase, "sk-up")
            .AddDeployment("other", "openai/gpt-4o", upstream.ApiBase, "sk-up")
            .AddGovernance(new GovernanceOptions { MasterKey = new Secret("sk-master") }, store));
        await using var sp = services.BuildServiceProvider();
        var runtime = sp.GetRequiredService<LLMuxRuntime>();
        var governance = sp.GetRequiredService<GovernanceService>();
        var raw = VirtualKeys.Generate();
        var now = DateTimeOffset.UtcNow;
        await store.InsertKeyAsync(new VirtualKey { Token = VirtualKeys.Hash(raw), KeyName = VirtualKeys.NameOf(raw), Models = ["allowed"], CreatedAt = now, UpdatedAt = now });
        var caller = governance.Authenticate(raw, out var error);
        Assert.Null(error);

        async Task<LlmError?> Run(string model)
        {
            var context = runtime.ContextPool.Rent();
            try
            {
                context.Caller = caller;
                context.Body = System.Text.Encoding.UTF8.GetBytes($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""");
                await runtime.Pipeline(context);
                return null;
            }
            catch (LlmException ex)
            {
                return ex.Error;
            }
            finally
            {
                runtime.ContextPool.Return(context);
            }
        }

        Assert.Null(await Run("allowed"));
        var denied = await Run("other");
        Assert.Equal("key_model_access_denied", denied?.Code);
        Assert.Single(upstream.Requests);
    }
}
