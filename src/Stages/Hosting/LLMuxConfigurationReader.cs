using Microsoft.Extensions.Configuration;

namespace LLMux.Stages.Hosting;

/// <summary>
/// <c>AddLLMux(configuration)</c>: the configuration section, read by <see cref="LiteLLMConfigReader"/> (the same
/// reader the <c>llmux</c> host uses for its YAML), applied to the options.
/// </summary>
internal static class LLMuxConfigurationReader
{
    public static void Read(IConfiguration section, LLMuxOptions options)
    {
        var config = LiteLLMConfigReader.Read(section, options.Environment, requireModelList: false, options.Settings);
        options.Deployments.AddRange(config.Deployments);
        options.Settings = config.Settings;
        options.ConfigurationErrors.AddRange(config.Errors);
        // environment_variables from the section resolve os.environ/ first, whatever resolver the host sets.
        foreach (var (k, v) in config.EnvironmentVariables) options.ConfigurationEnvironment[k] = v;
    }
}
