using System.Security.Cryptography;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Oci;

/// <summary>
/// The API signing key of an OCI user, as LiteLLM's params name it: <c>oci_tenancy</c>, <c>oci_user</c>,
/// <c>oci_fingerprint</c> and the PEM private key inline (<c>oci_key</c>, <c>\n</c> escapes allowed) or in a file
/// (<c>oci_key_file</c>). The key never appears in a message or in <see cref="ToString"/>.
/// </summary>
internal sealed class OciCredentials : IDisposable
{
    public const string DefaultRegion = "us-ashburn-1";

    private OciCredentials(string keyId, RSA key)
    {
        KeyId = keyId;
        Key = key;
    }

    /// <summary><c>{tenancy}/{user}/{fingerprint}</c>: the signature's keyId.</summary>
    public string KeyId { get; }

    public RSA Key { get; }

    public override string ToString() => $"OCI API key {KeyId}";

    public static string Region(Deployment deployment) => NonEmpty(deployment.Setting("oci_region")) ?? DefaultRegion;

    public static string CompartmentId(Deployment deployment) =>
        NonEmpty(deployment.Setting("oci_compartment_id")) ?? throw Missing(deployment, "oci_compartment_id", "every OCI chat call names the compartment it is billed to");

    /// <summary>Reads the deployment's key; <paramref name="readFile"/> reads <c>oci_key_file</c>.</summary>
    public static OciCredentials Load(Deployment deployment, Func<string, string> readFile)
    {
        var tenancy = NonEmpty(deployment.Setting("oci_tenancy")) ?? throw Missing(deployment, "oci_tenancy", "the key's tenancy OCID is not set");
        var user = NonEmpty(deployment.Setting("oci_user")) ?? throw Missing(deployment, "oci_user", "the key's user OCID is not set");
        var fingerprint = NonEmpty(deployment.Setting("oci_fingerprint")) ?? throw Missing(deployment, "oci_fingerprint", "the key's fingerprint is not set");
        string pem;
        string source;
        if (NonEmpty(deployment.Setting("oci_key")) is { } inline)
        {
            // A key pasted into YAML or an environment variable often carries literal \n.
            pem = inline.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\r\n", "\n", StringComparison.Ordinal);
            source = "oci_key";
        }
        else if (NonEmpty(deployment.Setting("oci_key_file")) is { } path)
        {
            source = "oci_key_file";
            try
            {
                pem = readFile(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw Missing(deployment, source, $"the file `{path}` cannot be read ({ex.GetType().Name})");
            }
        }
        else throw Missing(deployment, "oci_key", "no private key: set oci_key (the PEM text) or oci_key_file (its path)");

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (ArgumentException)
        {
            rsa.Dispose();
            throw Missing(deployment, source, "it is not a PEM RSA private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)");
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            throw Missing(deployment, source, "the PEM key cannot be read (an encrypted key needs its passphrase removed)");
        }
        return new OciCredentials($"{tenancy}/{user}/{fingerprint}", rsa);
    }

    private static LlmException Missing(Deployment deployment, string setting, string why) => new LlmError
    {
        Kind = ErrorKind.Auth,
        Message = $"{OciSpec.Name} deployment `{deployment.ModelName}` cannot sign its request: {why}; set litellm_params.{setting} " +
                  "(OCI needs oci_tenancy, oci_user, oci_fingerprint, oci_key or oci_key_file, oci_compartment_id, and oci_region)",
        Param = setting,
        Code = "missing_credentials",
        Provider = OciSpec.Name,
    }.ToException();

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    public void Dispose() => Key.Dispose();
}
