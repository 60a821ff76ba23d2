using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LLMux.Pipeline.Context;

namespace LLMux.Providers.Modes;

/// <summary>
/// A JSON upstream body that carries spooled upload files as base64 strings (Google's <c>inlineData.data</c>,
/// <c>bytesBase64Encoded</c>): the body is written with <see cref="System.Text.Json.Utf8JsonWriter"/> holding a
/// placeholder string per file, and each placeholder is replaced by the file's base64 while the body is sent, so that
/// no upload is held in memory. The placeholders carry a random per-request prefix, so a prompt cannot forge one.
/// </summary>
internal sealed class InlineFilesJson(MultipartBody body)
{
    private readonly string _prefix = "llmux-inline-" + Guid.NewGuid().ToString("N") + "-";
    private readonly List<MultipartPart> _files = [];

    /// <summary>The string to write where <paramref name="file"/>'s base64 belongs.</summary>
    public string Placeholder(MultipartPart file)
    {
        _files.Add(file);
        return _prefix + (_files.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The body for <paramref name="json"/> (which it then owns), every placeholder found in order.</summary>
    public HttpContent Content(PooledBuffer json) => new Body(body, _files, json, Encoding.UTF8.GetBytes(_prefix));

    private sealed class Body : HttpContent
    {
        private readonly MultipartBody _body;
        private readonly List<MultipartPart> _files;
        private readonly PooledBuffer _json;
        /// <summary>For file i, where its placeholder (between the quotes) starts and ends in the JSON.</summary>
        private readonly (int Start, int End)[] _holes;

        public Body(MultipartBody body, List<MultipartPart> files, PooledBuffer json, byte[] prefix)
        {
            _body = body;
            _files = files;
            _json = json;
            _holes = new (int, int)[files.Count];
            var span = json.Memory.Span;
            var from = 0;
            for (var i = 0; i < files.Count; i++)
            {
                var marker = Encoding.UTF8.GetBytes("\"" + Encoding.UTF8.GetString(prefix) + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"");
                var at = span[from..].IndexOf(marker);
                if (at < 0) throw new InvalidOperationException("an inline file's placeholder is missing from the JSON body");
                var start = from + at + 1;
                _holes[i] = (start, start + marker.Length - 2);
                from = start + marker.Length - 2;
            }
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var position = 0;
            for (var i = 0; i < _files.Count; i++)
            {
                var (start, end) = _holes[i];
                await stream.WriteAsync(_json.Memory[position..start], cancellationToken).ConfigureAwait(false);
                await using (var base64 = new Base64WriteStream(stream))
                {
                    await _body.CopyFileAsync(_files[i], base64, cancellationToken).ConfigureAwait(false);
                    await base64.FinishAsync(cancellationToken).ConfigureAwait(false);
                }
                position = end;
            }
            await stream.WriteAsync(_json.Memory[position..], cancellationToken).ConfigureAwait(false);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = _json.Length;
            for (var i = 0; i < _files.Count; i++) length += (_files[i].Length + 2) / 3 * 4 - (_holes[i].End - _holes[i].Start);
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _json.Dispose();
            base.Dispose(disposing);
        }
    }
}
