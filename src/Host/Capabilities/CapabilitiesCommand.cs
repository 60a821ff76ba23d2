using System.Text;
using System.Text.Json;
using LLMux.Providers;

namespace LLMux.Host.Capabilities;

/// <summary>
/// <c>llmux capabilities --markdown</c> (the whole matrix, as docs/capabilities.md), <c>--json</c>, or
/// <c>llmux capabilities &lt;provider/model&gt;</c> (that provider's table).
/// </summary>
internal static class CapabilitiesCommand
{
    public static int Run(LLMux.Host.Cli.CapabilitiesArgs args, TextWriter output, TextWriter error)
    {
        var catalog = new ProviderCatalog();
        if (args.Json)
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true })) CapabilityJsonWriter.Write(w, catalog);
            output.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
            return 0;
        }
        if (args.ProviderModel is not { } model)
        {
            output.Write(CapabilityMarkdownWriter.Document(catalog));
            return 0;
        }
        var spec = CapabilityMatrix.Find(catalog, model);
        if (spec is null)
        {
            error.WriteLine($"llmux: no provider for `{model}`; known providers: {string.Join(", ", catalog.Names)}");
            return 2;
        }
        output.Write(CapabilityMarkdownWriter.Provider(spec));
        return 0;
    }
}
