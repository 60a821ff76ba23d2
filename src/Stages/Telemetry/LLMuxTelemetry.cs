using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace LLMux.Stages.Telemetry;

/// <summary>
/// LLMux's <see cref="ActivitySource"/> and <see cref="Meter"/>, both named <c>LLMux</c>, with the OpenTelemetry GenAI
/// semantic-convention instruments. Subscribe with <c>AddSource("LLMux")</c> / <c>AddMeter("LLMux")</c>.
/// </summary>
public static class LLMuxTelemetry
{
    public const string Name = "LLMux";

    public static readonly ActivitySource ActivitySource = new(Name, typeof(LLMuxTelemetry).Assembly.GetName().Version?.ToString());
    public static readonly Meter Meter = new(Name, typeof(LLMuxTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary><c>gen_ai.client.operation.duration</c>: the whole call as the caller sees it (retries and fallbacks included; a stream until its end).</summary>
    public static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "GenAI operation duration.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] });

    /// <summary><c>gen_ai.client.token.usage</c>, with <c>gen_ai.token.type</c> input or output.</summary>
    public static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] });

    /// <summary><c>gen_ai.client.operation.time_to_first_chunk</c>: streams only.</summary>
    public static readonly Histogram<double> TimeToFirstChunk = Meter.CreateHistogram<double>("gen_ai.client.operation.time_to_first_chunk", "s", "Time to receive the first chunk of a streamed answer.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] });

    internal const string OperationName = "gen_ai.operation.name";
    internal const string ProviderName = "gen_ai.provider.name";
    /// <summary>The older name of <see cref="ProviderName"/>, still what many back ends group by.</summary>
    internal const string System = "gen_ai.system";
    internal const string RequestModel = "gen_ai.request.model";
    internal const string ResponseModel = "gen_ai.response.model";
    internal const string TokenType = "gen_ai.token.type";
    internal const string ErrorType = "error.type";
    internal const string ServerAddress = "server.address";
    internal const string InputTokens = "gen_ai.usage.input_tokens";
    internal const string OutputTokens = "gen_ai.usage.output_tokens";
}
