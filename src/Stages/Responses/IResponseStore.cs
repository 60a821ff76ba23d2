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
}

/// <summary>
/// One stored response. <see cref="Response"/> is the Response object as the client received it;
/// <see cref="InputItems"/> the turn's input items (a JSON array, every item with an id);
/// <see cref="OutputItems"/> the output items with LLMux's reasoning envelope kept even when the client did not
/// ask for <c>encrypted_content</c> (a follow-up needs it); <see cref="PreviousResponseId"/> links the chain.
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
}
