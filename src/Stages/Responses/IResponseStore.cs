namespace LLMux.Stages.Responses;

/// <summary>
/// Where <c>store: true</c> responses live so that <c>previous_response_id</c>, <c>GET</c>, <c>DELETE</c> and
/// <c>input_items</c> can find them. Every call is scoped by <paramref name="owner"/> (a hash of the client's key
/// today, the virtual key's id once keys exist): a client never sees another owner's responses, and a lookup
/// across owners answers as if the id did not exist. The default is <see cref="InMemoryResponseStore"/>; a
/// database-backed store implements the same interface.
/// </summary>
public interface IResponseStore
{
    ValueTask PutAsync(StoredResponse response, CancellationToken cancellationToken);
    ValueTask<StoredResponse?> GetAsync(string owner, string id, CancellationToken cancellationToken);
    ValueTask<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken);

    /// <summary>
    /// One input or output item (by its item id) of any response <paramref name="owner"/> stored, as JSON, for an
    /// <c>item_reference</c> outside a <c>previous_response_id</c> chain; null when no stored response of the owner has it.
    /// </summary>
    ValueTask<byte[]?> GetItemAsync(string owner, string itemId, CancellationToken cancellationToken) => ValueTask.FromResult<byte[]?>(null);
}

/// <summary>
/// One stored response. <see cref="Response"/> is the Response object as the client received it;
/// <see cref="InputItems"/> the turn's input items (a JSON array, every item with an id);
/// <see cref="OutputItems"/> the output items with LLMux's reasoning envelope kept even when the client did not
/// ask for <c>encrypted_content</c> (a follow-up needs it); <see cref="PreviousResponseId"/> links the chain.
/// A <see cref="Native"/> entry only records which deployment served a provider-made id (the provider keeps the
/// response itself: GET, DELETE, cancel and input_items are proxied to <see cref="DeploymentId"/>).
/// </summary>
public sealed record StoredResponse(
    string Id,
    string Owner,
    DateTimeOffset CreatedAt,
    string? PreviousResponseId,
    string? DeploymentId,
    byte[] Response,
    byte[] InputItems,
    byte[] OutputItems)
{
    public long Size => Response.Length + InputItems.Length + OutputItems.Length + 256;

    /// <summary>Created with <c>background: true</c> (cancellable while it runs).</summary>
    public bool Background { get; init; }

    /// <summary><c>queued</c>, <c>in_progress</c>, <c>completed</c>, <c>incomplete</c>, <c>failed</c> or <c>cancelled</c>.</summary>
    public string Status { get; init; } = "completed";

    /// <summary>The provider made and keeps this response; only its id and deployment are recorded here.</summary>
    public bool Native { get; init; }
}
