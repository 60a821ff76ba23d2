using System.Globalization;
using System.Net.Http.Headers;

namespace LLMux.Providers.Common;

/// <summary>Reads the headers every provider's error mapper needs: Retry-After and the upstream request id.</summary>
public static class UpstreamHeaders
{
    private static readonly string[] RequestIdHeaders = ["x-request-id", "request-id", "x-amzn-requestid", "x-goog-request-id", "apim-request-id", "cf-ray", "opc-request-id"];

    public static TimeSpan? RetryAfter(HttpResponseHeaders headers)
    {
        if (headers.RetryAfter is { } ra)
        {
            if (ra.Delta is { } delta) return delta;
            if (ra.Date is { } date)
            {
                var d = date - DateTimeOffset.UtcNow;
                return d > TimeSpan.Zero ? d : TimeSpan.Zero;
            }
        }
        // OpenAI also sends retry-after-ms.
        if (headers.TryGetValues("retry-after-ms", out var ms))
        {
            foreach (var v in ms)
            {
                if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var m)) return TimeSpan.FromMilliseconds(m);
            }
        }
        return null;
    }

    public static string? RequestId(HttpResponseHeaders headers)
    {
        foreach (var name in RequestIdHeaders)
        {
            if (headers.TryGetValues(name, out var values))
            {
                foreach (var v in values) return v;
            }
        }
        return null;
    }
}
