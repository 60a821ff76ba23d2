#:sdk Microsoft.NET.Sdk.Web
#:property PublishAot=false
#:project ../tests/LLMux.Emulators/LLMux.Emulators.csproj

// Starts the tests' Anthropic, Gemini, Bedrock and Cohere emulators so bench/aot-smoke.sh can point a
// published llmux at the translating providers. Prints LiteLLM model_list entries (YAML) for them,
// then serves until stdin closes or --max-seconds passes (so it can never outlive the script by long).
using LLMux.Emulators;

var maxSeconds = args.Length == 2 && args[0] == "--max-seconds" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 300;

await using var anthropic = await AnthropicEmulator.StartNewAsync();
await using var gemini = await GeminiEmulator.StartNewAsync();
await using var bedrock = await BedrockEmulator.StartNewAsync();
await using var cohere = await CohereEmulator.StartNewAsync();

Console.WriteLine($"""
      - model_name: claude
        litellm_params:
          model: anthropic/claude-sonnet-4-5
          api_base: {anthropic.ApiBase}
          api_key: sk-ant-smoke
      - model_name: gemini
        litellm_params:
          model: gemini/gemini-2.5-flash
          api_base: {gemini.GeminiApiBase}
          api_key: {gemini.ApiKey}
      - model_name: bedrock-converse
        litellm_params:
          model: bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0
          api_base: {bedrock.ApiBase}
          aws_access_key_id: {BedrockEmulator.AccessKeyId}
          aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
          aws_region_name: {BedrockEmulator.Region}
      - model_name: cohere
        litellm_params:
          model: cohere/command-r-plus
          api_base: {cohere.ApiBase}
          api_key: co-smoke
    """);
Console.WriteLine("# ready");
Console.Out.Flush();

var stdinClosed = Task.Run(() => { while (Console.In.ReadLine() is not null) { } });
await Task.WhenAny(stdinClosed, Task.Delay(TimeSpan.FromSeconds(maxSeconds)));
