using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace LLMux.Providers.Modes;

/// <summary>A spooled file part sent as the whole request body (Deepgram's raw audio), streamed from the spool.</summary>
public sealed class SpooledFileContent : HttpContent
{
    private readonly MultipartBody _body;
    private readonly MultipartPart _part;

    public SpooledFileContent(MultipartBody body, MultipartPart part, string mediaType)
    {
        _body = body;
        _part = part;
        Headers.ContentType = new MediaTypeHeaderValue(mediaType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) => _body.CopyFileAsync(_part, stream, cancellationToken);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = _part.Length;
        return true;
    }
}

/// <summary>
/// A new multipart/form-data body for an upstream whose field names differ from OpenAI's (ElevenLabs' <c>model_id</c>,
/// <c>language_code</c>): the given fields, then the client's file part streamed from the spool; the length is known up front.
/// </summary>
public sealed class RebuiltMultipartContent : HttpContent
{
    private readonly MultipartBody _body;
    private readonly MultipartPart _file;
    private readonly List<byte[]> _fields = [];
    private readonly byte[] _fileHead;
    private readonly byte[] _close;

    public RebuiltMultipartContent(MultipartBody body, MultipartPart file, string fileMediaType, IEnumerable<KeyValuePair<string, string>> fields)
    {
        _body = body;
        _file = file;
        var boundary = "llmux-" + Guid.NewGuid().ToString("N");
        foreach (var (name, value) in fields)
            _fields.Add(Encoding.UTF8.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
        var fileName = (file.FileName ?? "audio").Replace("\"", "", StringComparison.Ordinal);
        _fileHead = Encoding.UTF8.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{fileName}\"\r\nContent-Type: {fileMediaType}\r\n\r\n");
        _close = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
        Headers.ContentType = new MediaTypeHeaderValue("multipart/form-data");
        Headers.ContentType.Parameters.Add(new NameValueHeaderValue("boundary", boundary));
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        foreach (var f in _fields) await stream.WriteAsync(f, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(_fileHead, cancellationToken).ConfigureAwait(false);
        await _body.CopyFileAsync(_file, stream, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(_close, cancellationToken).ConfigureAwait(false);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = _fileHead.Length + _file.Length + _close.Length;
        foreach (var f in _fields) length += f.Length;
        return true;
    }
}
