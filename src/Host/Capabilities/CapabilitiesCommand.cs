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
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var catalog = new ProviderCatalog();
        if (args.Length == 0 || args[0] == "--markdown")
        {
            output.Write(CapabilityMarkdownWriter.Document(catalog));
            return 0;
        }
        if (args[0] == "--json")
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true })) CapabilityJsonWriter.Write(w, catalog);
            output.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
            return 0;
        }
        if (args[0] is "-h" or "--help")
        {
            output.WriteLine("llmux capabilities [--markdown | --json | <provider/model>]");
            return 0;
        }
        var spec = CapabilityMatrix.Find(catalog, args[0]);
        if (spec is null)
        {
            error.WriteLine($"llmux: no provider for `{args[0]}`; known providers: {string.Join(", ", catalog.Names)}");
            return 2;
        }
        output.Write(CapabilityMarkdownWriter.Provider(spec));
        return 0;
    }
}
