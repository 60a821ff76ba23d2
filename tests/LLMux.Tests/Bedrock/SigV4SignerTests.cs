using System.Text;
using System.Text.Json;
using LLMux.Providers.Bedrock;

namespace LLMux.Tests.Bedrock;

/// <summary>The signer against every header-signing case of AWS's SigV4 test suite, and Bedrock's double-encoded model ids.</summary>
public sealed class SigV4SignerTests
{
    private static readonly AwsCredentials Example = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private static readonly DateTimeOffset ExampleTime = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    public static TheoryData<string> SuiteCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Suite.RootElement.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static readonly JsonDocument Suite = LoadSuite();

    private static JsonDocument LoadSuite()
    {
        using var stream = typeof(SigV4SignerTests).Assembly.GetManifestResourceStream("sigv4-test-suite.json")!;
        return JsonDocument.Parse(stream);
    }

    [Theory]
    [MemberData(nameof(SuiteCases))]
    public void Aws_test_suite_vector_is_reproduced_exactly(string name)
    {
        var c = Suite.RootElement.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var (method, path, query, headers, body) = ParseRequest(c.GetProperty("request").GetString()!);
        headers.Add(new("X-Amz-Date", "20150830T123600Z"));
        var token = c.GetProperty("sessionToken").GetString();
        if (token is not null && !c.GetProperty("omitSessionToken").GetBoolean()) headers.Add(new("X-Amz-Security-Token", token));
        var payloadHash = SigV4Signer.PayloadHash(body);
        if (c.GetProperty("signBody").GetBoolean()) headers.Add(new("x-amz-content-sha256", payloadHash));
        var normalize = c.GetProperty("normalize").GetBoolean();

        var canonical = SigV4Signer.CanonicalRequest(method, path, query, headers, payloadHash, normalize);
        Assert.Equal(c.GetProperty("canonicalRequest").GetString(), canonical);
        Assert.Equal(c.GetProperty("stringToSign").GetString(), SigV4Signer.StringToSign(canonical, ExampleTime, "us-east-1", "service"));

        var credentials = token is null ? Example : Example with { SessionToken = token };
        var authorization = SigV4Signer.Authorization(method, path, query, headers, payloadHash, credentials, "us-east-1", "service", ExampleTime, normalize);
        Assert.EndsWith("Signature=" + c.GetProperty("signature").GetString(), authorization);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=", authorization);
    }

    [Fact]
    public void Model_id_escapes_are_encoded_again_in_the_canonical_path()
    {
        List<KeyValuePair<string, string>> headers = [new("host", "bedrock-runtime.us-east-1.amazonaws.com"), new("x-amz-date", "20240101T000000Z")];
        var canonical = SigV4Signer.CanonicalRequest("POST", "/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse", null, headers, SigV4Signer.EmptyPayloadHash);
        Assert.Equal("/model/us.anthropic.claude-3-5-sonnet-20241022-v2%253A0/converse", canonical.Split('\n')[1]);
    }

    [Fact]
    public void Header_names_are_lower_cased_sorted_and_listed_as_signed()
    {
        List<KeyValuePair<string, string>> headers = [new("X-Amz-Date", "20150830T123600Z"), new("Content-Type", "application/json"), new("Host", "h")];
        var auth = SigV4Signer.Authorization("POST", "/", null, headers, SigV4Signer.EmptyPayloadHash, Example, "us-east-1", "bedrock", ExampleTime);
        Assert.Contains("SignedHeaders=content-type;host;x-amz-date,", auth);
        Assert.Contains("/20150830/us-east-1/bedrock/aws4_request", auth);
    }

    [Fact]
    public void Amz_date_is_utc_basic_format()
    {
        Assert.Equal("20150830T123600Z", SigV4Signer.AmzDate(new DateTimeOffset(2015, 8, 30, 14, 36, 0, TimeSpan.FromHours(2))));
    }

    /// <summary>Parses a raw test-suite request: request line, headers with folded continuation lines, blank line, body.</summary>
    internal static (string Method, string Path, string? Query, List<KeyValuePair<string, string>> Headers, byte[] Body) ParseRequest(string raw)
    {
        var lines = raw.Replace("\r\n", "\n").Split('\n');
        var requestLine = lines[0];
        var firstSpace = requestLine.IndexOf(' ');
        var method = requestLine[..firstSpace];
        var target = requestLine[(firstSpace + 1)..requestLine.LastIndexOf(" HTTP/", StringComparison.Ordinal)];
        var q = target.IndexOf('?');
        var path = q < 0 ? target : target[..q];
        var query = q < 0 ? null : target[(q + 1)..];
        var headers = new List<KeyValuePair<string, string>>();
        var i = 1;
        for (; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0) break;
            if (line[0] is ' ' or '\t')
            {
                var last = headers[^1];
                headers[^1] = new(last.Key, last.Value + "\n" + line);
                continue;
            }
            var colon = line.IndexOf(':');
            headers.Add(new(line[..colon], line[(colon + 1)..]));
        }
        var body = i + 1 < lines.Length ? string.Join("\n", lines[(i + 1)..]) : "";
        return (method, path, query, headers, Encoding.UTF8.GetBytes(body));
    }
}
