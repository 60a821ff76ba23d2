using System.Text;
using System.Text.Json;
using LLMux.Host.Capabilities;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers;
using LLMux.Providers.OpenAI;
using LLMux.Stages;

namespace LLMux.Tests.Capabilities;

/// <summary>
/// One case per provider × mode × parameter, generated from the capability matrix: the capability-check stage
/// (and, for providers that forward the body, the request the provider writes) does what the cell says, under
/// every drop_params level, <c>additional_drop_params</c> and <c>allowed_openai_params</c>.
/// </summary>
public sealed class CapabilityCellTests
{
    private static readonly ProviderCatalog Catalog = new();

    private static readonly HashSet<string> NeverFatal = ["stream", "stream_options", "user", "max_retries"];

    public static IEnumerable<object[]> Cells()
    {
        foreach (var spec in CapabilityMatrix.Specs(Catalog))
            foreach (var mode in CapabilityMatrix.TableModes(spec))
                foreach (var cell in CapabilityMatrix.Cells(spec, mode))
                    yield return [spec.Name, mode.Name(), cell.Param];
    }

    [Fact]
    public void Every_provider_has_a_cell_for_every_OpenAI_parameter_of_each_mode_it_supports()
    {
        var cells = Cells().Select(static c => ((string)c[0], (string)c[1], (string)c[2])).ToHashSet();
        foreach (var spec in Catalog.Specs)
        {
            if (spec.Supports(LlmMode.Chat)) foreach (var p in OpenAIParamNames.Chat) Assert.Contains((spec.Name, "chat", p), cells);
            if (spec.Supports(LlmMode.Embeddings)) foreach (var p in OpenAIParamNames.Embeddings) Assert.Contains((spec.Name, "embeddings", p), cells);
        }
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task Cell_behaves_as_the_matrix_says(string provider, string modeName, string param)
    {
        var spec = Catalog.Find(provider)!.Spec;
        var mode = Enum.GetValues<LlmMode>().Single(m => m.Name() == modeName);
        var rule = spec.RuleFor(mode, param);
        var forwardedAsIs = rule.Kind == ParamSupportKind.Dropped && spec.ForwardsUnknownFields && !IsOpenAIParam(param) && !ModeParamNames.Contains(mode, param);
        var droppedAnyway = rule.Kind == ParamSupportKind.Dropped && NeverFatal.Contains(param);

        // No drop_params anywhere.
        var plain = await RunAsync(provider, mode, param);
        switch (rule.Kind)
        {
            case ParamSupportKind.Native or ParamSupportKind.Mapped:
                Assert.Null(plain.Error);
                Assert.DoesNotContain(param, plain.Dropped);
                // "(applied by LLMux …)": the gateway does it (sorting, cutting, attaching documents); nothing goes upstream.
                if (plain.Body is { } body && rule.MappedTo?.StartsWith("(applied by LLMux", StringComparison.Ordinal) != true)
                {
                    var expectedKey = rule.Kind == ParamSupportKind.Mapped && rule.MappedTo is { } to && !to.Contains(' ') && !to.Contains('(') ? to : param;
                    Assert.True(body.RootElement.TryGetProperty(expectedKey, out _), $"{provider}: `{param}` should reach the upstream as `{expectedKey}`: {body.RootElement.GetRawText()}");
                }
                break;
            case ParamSupportKind.Rejected:
                AssertRefused(plain, provider, param, "remove it");
                break;
            default:
                if (forwardedAsIs)
                {
                    Assert.Null(plain.Error);
                }
                else if (droppedAnyway)
                {
                    Assert.Null(plain.Error);
                    Assert.Contains(param, plain.Dropped);
                    AssertNotSent(plain, param);
                }
                else
                {
                    AssertRefused(plain, provider, param, "drop_params");
                }
                break;
        }

        // drop_params at each of LiteLLM's levels: a dropped parameter is removed with a warning; a rejected one still fails.
        foreach (var level in new[] { DropLevel.Request, DropLevel.Deployment, DropLevel.Settings })
        {
            var run = await RunAsync(provider, mode, param, level);
            if (rule.Kind == ParamSupportKind.Rejected) { AssertRefused(run, provider, param, "remove it"); continue; }
            Assert.Null(run.Error);
            if (rule.Kind == ParamSupportKind.Dropped && !forwardedAsIs)
            {
                Assert.Contains(param, run.Dropped);
                AssertNotSent(run, param);
            }
            else Assert.DoesNotContain(param, run.Dropped);
        }

        // additional_drop_params always removes, whatever the cell says (deployment and request lists).
        foreach (var where in new[] { ListLevel.Deployment, ListLevel.Request })
        {
            var run = await RunAsync(provider, mode, param, additionalDrop: where);
            Assert.Null(run.Error);
            Assert.Contains(param, run.Dropped);
            AssertNotSent(run, param);
        }

        // allowed_openai_params forces it through.
        foreach (var where in new[] { ListLevel.Deployment, ListLevel.Request })
        {
            var run = await RunAsync(provider, mode, param, allowed: where);
            Assert.Null(run.Error);
            Assert.DoesNotContain(param, run.Dropped);
        }
    }

    private static void AssertRefused(Outcome run, string provider, string param, string fix)
    {
        Assert.NotNull(run.Error);
        Assert.Equal(ErrorKind.UnsupportedParam, run.Error!.Kind);
        Assert.Equal(400, ErrorStatus.For(run.Error.Kind));
        Assert.Equal(param, run.Error.Param);
        Assert.Contains($"`{param}`", run.Error.Message);
        Assert.Contains(provider, run.Error.Message);
        Assert.Contains(fix, run.Error.Message);
        Assert.False(run.NextCalled, "a refused call must not reach the transform stage");
    }

    private static void AssertNotSent(Outcome run, string param)
    {
        if (run.Body is { } body) Assert.False(body.RootElement.TryGetProperty(param, out _), $"`{param}` reached the upstream body");
    }

    private enum DropLevel { None, Request, Deployment, Settings }

    private enum ListLevel { None, Deployment, Request }

    private sealed record Outcome(LlmError? Error, IReadOnlyList<string> Dropped, JsonDocument? Body, bool NextCalled);

    private static async Task<Outcome> RunAsync(string provider, LlmMode mode, string param, DropLevel drop = DropLevel.None, ListLevel additionalDrop = ListLevel.None, ListLevel allowed = ListLevel.None)
    {
        var llm = Catalog.Find(provider)!;
        var body = new StringBuilder("{\"model\":\"m\",");
        body.Append(mode switch
        {
            LlmMode.Embeddings or LlmMode.Moderation => "\"input\":\"hi\"",
            LlmMode.Chat => "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]",
            LlmMode.Completion => "\"prompt\":\"hi\"",
            LlmMode.Rerank => "\"query\":\"hi\",\"documents\":[\"a\",\"b\"]",
            _ => "\"prompt\":\"hi\"",
        });
        body.Append(",\"").Append(param).Append("\":").Append(Sample(param, mode));
        if ((param == "tool_choice" || param == "parallel_tool_calls") && llm.Spec.RuleFor(mode, "tools").Kind is ParamSupportKind.Native or ParamSupportKind.Mapped) body.Append(",\"tools\":").Append(Sample("tools"));
        if (drop == DropLevel.Request) body.Append(",\"drop_params\":true");
        if (additionalDrop == ListLevel.Request) body.Append(",\"additional_drop_params\":[\"").Append(param).Append("\"]");
        if (allowed == ListLevel.Request) body.Append(",\"allowed_openai_params\":[\"").Append(param).Append("\"]");
        body.Append('}');
        var bytes = Encoding.UTF8.GetBytes(body.ToString());

        var context = new LlmContext { Mode = mode, Body = bytes };
        if (mode == LlmMode.Embeddings) context.Embedding = JsonSerializer.Deserialize(bytes, WireJson.Default.EmbeddingRequest);
        else if (mode != LlmMode.Chat)
        {
            // The other modes are validated by their endpoints, which hand the stage the parameters the client set.
            context.ModeRequest = new ModeRequest
            {
                Params = [param],
                DropParams = drop == DropLevel.Request ? true : null,
                AdditionalDropParams = additionalDrop == ListLevel.Request ? [param] : [],
                AllowedOpenAIParams = allowed == ListLevel.Request ? [param] : [],
                Parsed = mode switch
                {
                    LlmMode.Rerank => LLMux.Providers.Modes.RerankRequest.Parse(bytes),
                    LlmMode.AudioTranscription => await Upload(param),
                    _ => null,
                },
            };
            context.IsStream = param == "stream";
        }
        else
        {
            context.Chat = JsonSerializer.Deserialize(bytes, WireJson.Default.ChatRequest);
            context.IsStream = context.Chat!.IsStream;
        }
        context.Deployment = new Deployment
        {
            ModelName = "m",
            Model = provider + "/test-model",
            ProviderName = provider,
            UpstreamModel = "test-model",
            Provider = llm,
            Id = "d1",
            ApiBase = "http://127.0.0.1:9/v1",
            ApiKey = Secret.From("sk-test"),
            // Signed upstreams (sagemaker_chat) need a key pair to write their request.
            Settings = System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(new Dictionary<string, string> { ["aws_access_key_id"] = "AKIDCELLTEST", ["aws_secret_access_key"] = "cell-test-secret" }),
            DropParams = drop == DropLevel.Deployment ? true : null,
            AdditionalDropParams = additionalDrop == ListLevel.Deployment ? [param] : [],
            AllowedOpenAIParams = allowed == ListLevel.Deployment ? [param] : [],
        };
        var stage = new CapabilityCheckStage(new GatewaySettings { DropParams = drop == DropLevel.Settings });
        var nextCalled = false;
        try
        {
            await stage.InvokeAsync(context, c => { nextCalled = true; return ValueTask.CompletedTask; });
        }
        catch (LlmException ex)
        {
            return new Outcome(ex.Error, context.DroppedParams.ToArray(), null, nextCalled);
        }
        JsonDocument? upstream = null;
        // Providers that forward the client's body: the request they write shows what the upstream gets.
        if (llm is OpenAIProvider && provider != "mock")
        {
            using var request = llm.CreateRequest(context);
            upstream = mode == LlmMode.AudioTranscription
                ? FieldsOf(await request.Content!.ReadAsByteArrayAsync())
                : JsonDocument.Parse(await request.Content!.ReadAsByteArrayAsync());
        }
        return new Outcome(null, context.DroppedParams.ToArray(), upstream, nextCalled);
    }

    /// <summary>A transcription upload with one audio file, the model and <paramref name="param"/> as a form field.</summary>
    private static async Task<LLMux.Providers.Modes.TranscriptionRequest> Upload(string param)
    {
        var field = param is "timestamp_granularities" or "include" ? param + "[]" : param;
        var value = param switch
        {
            "timestamp_granularities" => "word",
            "include" => "logprobs",
            "temperature" => "0.5",
            "stream" => "true",
            "response_format" => "verbose_json",
            "chunking_strategy" => "auto",
            _ => "x",
        };
        var text = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF0000WAVE\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n"
            + (param == "timestamp_granularities" ? "--b\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\nverbose_json\r\n" : "")
            + "--b\r\nContent-Disposition: form-data; name=\"" + field + "\"\r\n\r\n" + value + "\r\n--b--\r\n";
        var body = await LLMux.Providers.Modes.MultipartBody.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), "b", 1 << 20, default);
        return LLMux.Providers.Modes.TranscriptionRequest.From(body, translation: false);
    }

    /// <summary>The form fields of a multipart body as a JSON object (names without <c>[]</c>), for the same assertions as JSON bodies.</summary>
    private static JsonDocument FieldsOf(byte[] multipart)
    {
        var names = new List<string>();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(Encoding.UTF8.GetString(multipart), "name=\"([^\"]+)\""))
            names.Add(m.Groups[1].Value.TrimEnd('[', ']'));
        return JsonDocument.Parse("{" + string.Join(",", names.Distinct().Select(static n => "\"" + n + "\":1")) + "}");
    }

    private static bool IsOpenAIParam(string p) => OpenAIParamNames.Chat.Contains(p) || OpenAIParamNames.Embeddings.Contains(p) || p is "thinking" or "reasoning_effort";

    private static string Sample(string param, LlmMode mode) => (param, mode) switch
    {
        ("logprobs", LlmMode.Completion) => "2",
        ("echo" or "return_documents", _) => "true",
        ("best_of" or "top_n" or "max_chunks_per_doc" or "max_tokens_per_doc", _) => "2",
        ("rank_fields", _) => "[\"text\"]",
        ("truncate", LlmMode.Rerank) => "\"END\"",
        _ => Sample(param),
    };

    private static string Sample(string param) => param switch
    {
        "temperature" => "0.5",
        "top_p" => "0.9",
        "n" => "2",
        "stream" => "true",
        "stream_options" => "{\"include_usage\":true}",
        "stop" => "[\"END\"]",
        "max_tokens" or "max_completion_tokens" => "16",
        "presence_penalty" or "frequency_penalty" => "0.1",
        "logit_bias" => "{\"50256\":-100}",
        "logprobs" or "store" => "true",
        "top_logprobs" => "2",
        "seed" => "7",
        "user" => "\"user-1\"",
        "tools" => "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}}]",
        "tool_choice" or "function_call" => "\"auto\"",
        "parallel_tool_calls" => "false",
        "functions" => "[{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}]",
        "response_format" => "{\"type\":\"json_object\"}",
        "reasoning_effort" or "verbosity" => "\"low\"",
        "thinking" => "{\"type\":\"enabled\",\"budget_tokens\":1024}",
        "modalities" => "[\"text\"]",
        "audio" => "{\"voice\":\"alloy\",\"format\":\"wav\"}",
        "prediction" => "{\"type\":\"content\",\"content\":\"x\"}",
        "web_search_options" => "{}",
        "service_tier" => "\"auto\"",
        "extra_headers" => "{\"x-test\":\"1\"}",
        "max_retries" => "1",
        "encoding_format" => "\"float\"",
        "dimensions" => "8",
        _ => "\"x\"",
    };
}
