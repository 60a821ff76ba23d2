using System.Globalization;
using LLMux.Stages.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LLMux.Host.Config;

/// <summary>
/// config.yaml as configuration keys (<c>model_list:0:litellm_params:model</c>), so that the library's
/// <see cref="LiteLLMConfigReader"/> reads the YAML exactly as it reads appsettings.json. Sequences become indexes;
/// plain scalars are read as YAML 1.1 (PyYAML, LiteLLM's loader) reads them; YAML nulls are left out; an empty mapping or list stays as an empty value, so that "present but empty" is not
/// "missing". A ':' inside a key (an Ollama tag in a fallback group) is escaped, since ':' separates sections.
/// </summary>
internal static class YamlConfigurationKeys
{
    public static Dictionary<string, string?> Flatten(YamlMappingNode root)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in root.Children) Add(data, Key(k), v);
        return data;
    }

    private static void Add(Dictionary<string, string?> data, string path, YamlNode node)
    {
        switch (node)
        {
            case YamlScalarNode s:
                if (s.Value is null) return;
                if (s.Style != ScalarStyle.Plain) { data[path] = s.Value; return; }
                // Plain scalars mean what they mean to LiteLLM's YAML 1.1 loader: `20_000` is 20000, `yes` is true, `Null` is null.
                if (Yaml11Scalars.IsNull(s.Value)) return;
                data[path] = Yaml11Scalars.Normalize(s.Value);
                break;
            case YamlMappingNode m:
                if (m.Children.Count == 0) { data[path] = ""; return; }
                foreach (var (k, v) in m.Children) Add(data, path + ":" + Key(k), v);
                break;
            case YamlSequenceNode q:
                if (q.Children.Count == 0) { data[path] = ""; return; }
                for (var i = 0; i < q.Children.Count; i++) Add(data, path + ":" + i.ToString(CultureInfo.InvariantCulture), q.Children[i]);
                break;
        }
    }

    private static string Key(YamlNode node) =>
        (node is YamlScalarNode s ? s.Value ?? "" : node.ToString()).Replace(":", LiteLLMConfigReader.EscapedColon, StringComparison.Ordinal);
}
