using System.Runtime.CompilerServices;
using System.Text;
using LLMux.Pipeline.Wire;
using Microsoft.Extensions.AI;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace LLMux.Stages.Hosting;

/// <summary>
/// <see cref="IChatClient"/> over LLMux: any M.E.AI code (function invocation, caching, telemetry middleware)
/// reaches every LLMux provider with its routing, retries and accounting.
/// </summary>
public sealed class LLMuxChatClient : IChatClient
{
    private readonly ILlmClient _client;
    private readonly string? _defaultModel;
    private readonly ChatClientMetadata _metadata;

    /// <param name="client">The LLMux client (from DI: <c>AddLLMux</c>).</param>
    /// <param name="defaultModel">The model name used when <see cref="ChatOptions.ModelId"/> is not set.</param>
    public LLMuxChatClient(ILlmClient client, string? defaultModel = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _defaultModel = defaultModel;
        _metadata = new ChatClientMetadata("llmux", null, defaultModel);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = ChatRequestMapper.ToRequest(messages, options, _defaultModel, this);
        var completion = await _client.CompleteAsync(request, cancellationToken).ConfigureAwait(false);
        return ChatResponseMapper.ToResponse(completion);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = ChatRequestMapper.ToRequest(messages, options, _defaultModel, this);
        request.StreamOptions ??= new StreamOptions();
        request.StreamOptions.IncludeUsage ??= true;
        // Tool-call pieces arrive split across chunks; M.E.AI wants whole calls, so they are joined and given out at the finish.
        SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>? calls = null;
        string? responseId = null, modelId = null;
        DateTimeOffset? created = null;
        await foreach (var chunk in _client.StreamAsync(request, cancellationToken).ConfigureAwait(false))
        {
            responseId = chunk.Id;
            modelId = chunk.Model;
            created = ChatResponseMapper.Created(chunk.Created);
            var update = new ChatResponseUpdate
            {
                ResponseId = chunk.Id,
                MessageId = chunk.Id,
                ModelId = chunk.Model,
                CreatedAt = created,
                RawRepresentation = chunk,
            };
            if (chunk.Extra is { Count: > 0 } extra) update.AdditionalProperties = ChatResponseMapper.Properties(extra);
            foreach (var choice in chunk.Choices)
            {
                var delta = choice.Delta;
                if (delta.Role is { } role) update.Role = new ChatRole(role);
                if (delta.ReasoningContent is { Length: > 0 } reasoning) update.Contents.Add(new TextReasoningContent(reasoning));
                if (delta.Content is { Length: > 0 } text) update.Contents.Add(new TextContent(text));
                if (delta.ToolCalls is { } pieces)
                {
                    calls ??= [];
                    foreach (var piece in pieces)
                    {
                        var index = piece.Index ?? 0;
                        if (!calls.TryGetValue(index, out var call)) call = (null, null, new StringBuilder());
                        call.Id ??= piece.Id;
                        call.Name ??= piece.Function?.Name;
                        call.Arguments.Append(piece.Function?.Arguments);
                        calls[index] = call;
                    }
                }
                if (ChatResponseMapper.FinishReason(choice.FinishReason) is { } finish)
                {
                    update.FinishReason = finish;
                    Flush(calls, update);
                }
            }
            if (chunk.Usage is { } usage) update.Contents.Add(new UsageContent(ChatResponseMapper.Usage(usage)!));
            update.Role ??= ChatRole.Assistant;
            yield return update;
        }
        if (calls is { Count: > 0 })
        {
            var last = new ChatResponseUpdate { ResponseId = responseId, MessageId = responseId, ModelId = modelId, CreatedAt = created, Role = ChatRole.Assistant };
            Flush(calls, last);
            yield return last;
        }
    }

    private static void Flush(SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>? calls, ChatResponseUpdate update)
    {
        if (calls is not { Count: > 0 }) return;
        foreach (var (_, call) in calls) update.Contents.Add(ChatResponseMapper.FunctionCall(call.Id ?? "", call.Name ?? "", call.Arguments.ToString()));
        calls.Clear();
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return _metadata;
        if (serviceType == typeof(ILlmClient)) return _client;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose() { }
}
