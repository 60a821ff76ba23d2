using LLMux.Pipeline.Errors;

namespace LLMux.Tests.Gemini;

/// <summary>OpenAI chat requests → Gemini generateContent bodies, compared as JSON.</summary>
public sealed class GeminiRequestWriterTests
{
    public static TheoryData<string, string, string, string> Cases => new()
    {
        {
            "system lifted out, sampling params translated",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Hi"}],"temperature":0.2,"top_p":0.9,"max_tokens":50,"stop":"END","n":2,"presence_penalty":0.5,"frequency_penalty":0.25}""",
            """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"system_instruction":{"parts":[{"text":"Be terse."}]},"generationConfig":{"temperature":0.2,"top_p":0.9,"max_output_tokens":50,"candidate_count":2,"stop_sequences":["END"],"presence_penalty":0.5,"frequency_penalty":0.25}}"""
        },
        {
            "max_completion_tokens wins, stop list, seed and logprobs",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":10,"max_completion_tokens":20,"stop":["a","b"],"seed":7,"logprobs":true,"top_logprobs":3}""",
            """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"max_output_tokens":20,"stop_sequences":["a","b"],"seed":7,"responseLogprobs":true,"logprobs":3}}"""
        },
        {
            "consecutive user and assistant turns merge; assistant becomes model; system in the middle is lifted",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"a"},{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"b"}]},{"role":"assistant","content":"c"},{"role":"assistant","content":"d"},{"role":"user","content":"e"}]}""",
            """{"contents":[{"role":"user","parts":[{"text":"a"},{"text":"b"}]},{"role":"model","parts":[{"text":"c"},{"text":"d"}]},{"role":"user","parts":[{"text":"e"}]}],"system_instruction":{"parts":[{"text":"s"}]},"generationConfig":{}}"""
        },
        {
            "tool calls and results: names looked up by id, JSON objects kept, text wrapped, results share one role-less content",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"get_time","arguments":""}}]},{"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21}"},{"role":"tool","tool_call_id":"call_2","content":"noon"},{"role":"user","content":"thanks"}]}""",
            """{"contents":[{"role":"user","parts":[{"text":"weather?"}]},{"role":"model","parts":[{"function_call":{"name":"get_weather","args":{"city":"Paris"}}},{"function_call":{"name":"get_time","args":{}}}]},{"parts":[{"function_response":{"name":"get_weather","response":{"temp":21}}},{"function_response":{"name":"get_time","response":{"content":"noon"}}}]},{"role":"user","parts":[{"text":"thanks"}]}],"generationConfig":{}}"""
        },
        {
            "gemini-3 tool calls carry a thought signature: from the id, else the documented dummy",
            "gemini-3-pro-preview",
            """{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"call_a__thought__c2lnQQ==","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"call_b","type":"function","function":{"name":"g","arguments":"{}"}}]}],"reasoning_effort":"high"}""",
            """{"contents":[{"role":"user","parts":[{"text":"q"}]},{"role":"model","parts":[{"function_call":{"name":"f","args":{}},"thoughtSignature":"c2lnQQ=="},{"function_call":{"name":"g","args":{}},"thoughtSignature":"c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I="}]}],"generationConfig":{"temperature":1.0,"thinkingConfig":{"thinkingLevel":"high","includeThoughts":true}}}"""
        },
        {
            "assistant reasoning goes back as a thought part, signed thinking blocks with their signature",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","reasoning_content":"r","thinking_blocks":[{"type":"thinking","thinking":"r","signature":"U0lH"},{"type":"thinking","thinking":"unsigned"}]},{"role":"user","content":"q2"}]}""",
            """{"contents":[{"role":"user","parts":[{"text":"q"}]},{"role":"model","parts":[{"thought":true,"text":"r"},{"thoughtSignature":"U0lH","text":"r"},{"text":"a"}]},{"role":"user","parts":[{"text":"q2"}]}],"generationConfig":{}}"""
        },
        {
            "images: data URI inline, gs:// and https as file_data with the mime from the extension; audio inline",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"image_url","image_url":{"url":"gs://bucket/cat.jpg"}},{"type":"image_url","image_url":"https://example.com/a/b.webp?x=1"},{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"mp3"}}]}]}""",
            """{"contents":[{"role":"user","parts":[{"text":"what is this"},{"inline_data":{"mime_type":"image/png","data":"iVBORw0KGgo="}},{"file_data":{"mime_type":"image/jpeg","file_uri":"gs://bucket/cat.jpg"}},{"file_data":{"mime_type":"image/webp","file_uri":"https://example.com/a/b.webp?x=1"}},{"inline_data":{"mime_type":"audio/mp3","data":"UklGRg=="}}]}],"generationConfig":{}}"""
        },
        {
            "a user turn without text gets a blank text part",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}}]}]}""",
            """{"contents":[{"role":"user","parts":[{"inline_data":{"mime_type":"image/jpeg","data":"/9j/"}},{"text":" "}]}],"generationConfig":{}}"""
        },
        {
            "system-only prompt gets a '.' user turn",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"system","content":"You are a poet."}]}""",
            """{"contents":[{"role":"user","parts":[{"text":"."}]}],"system_instruction":{"parts":[{"text":"You are a poet."}]},"generationConfig":{}}"""
        },
        {
            "tools → one function_declarations entry with converted parameters; named tool_choice → ANY + allowed names",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","strict":true,"parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":["string","null"],"enum":["c","f"]}},"required":["city"],"additionalProperties":false}}},{"type":"function","function":{"name":"noop","parameters":{"type":"object","properties":{}}}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}}}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"tools":[{"function_declarations":[{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["c","f"],"type":"string","nullable":true}},"required":["city"]}},{"name":"noop","parameters":{"type":"object"}}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowed_function_names":["get_weather"]}},"generationConfig":{}}"""
        },
        {
            "tool_choice required → ANY; web_search_options → googleSearch tool",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","web_search_options":{}}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"tools":[{"function_declarations":[{"name":"f"}]},{"googleSearch":{}}],"toolConfig":{"functionCallingConfig":{"mode":"ANY"}},"generationConfig":{}}"""
        },
        {
            "tool_choice none → NONE",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"tools":[{"function_declarations":[{"name":"f"}]}],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}},"generationConfig":{}}"""
        },
        {
            "json_object → application/json",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"response_format":{"type":"json_object"}}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"response_mime_type":"application/json"}}"""
        },
        {
            "json_schema on gemini-2.5 → response_json_schema: refs inlined, null unions nullable, other keywords kept",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,"schema":{"type":"object","$defs":{"Step":{"type":"object","properties":{"n":{"type":"integer"}}}},"properties":{"steps":{"type":"array","items":{"$ref":"#/$defs/Step"}},"note":{"anyOf":[{"type":"string"},{"type":"null"}]}},"required":["steps"],"additionalProperties":false}}}}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"response_mime_type":"application/json","response_json_schema":{"type":"object","properties":{"steps":{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer"}}}},"note":{"anyOf":[{"type":"string","nullable":true}]}},"required":["steps"],"additionalProperties":false}}}"""
        },
        {
            "json_schema on gemini-1.5 → response_schema (OpenAPI subset) with propertyOrdering",
            "gemini-1.5-pro",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","$schema":"http://json-schema.org/draft-07/schema#","properties":{"name":{"type":"string","format":"email","title":"Name"},"age":{"type":"integer","minimum":0,"const":3},"when":{"type":"string","format":"date-time"}},"required":["name"],"additionalProperties":false}}}}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"response_mime_type":"application/json","response_schema":{"type":"object","properties":{"name":{"type":"string","title":"Name"},"age":{"type":"integer","minimum":0},"when":{"type":"string","format":"date-time"}},"required":["name"],"propertyOrdering":["name","age","when"]}}}"""
        },
        {
            "reasoning_effort low on 2.5-flash → 1024-token budget with thoughts",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"reasoning_effort":"low"}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}}}"""
        },
        {
            "reasoning_effort minimal on 2.5-flash-lite → 512; none → 0 without thoughts (checked separately)",
            "gemini-2.5-flash-lite",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"reasoning_effort":"minimal"}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":512,"includeThoughts":true}}}"""
        },
        {
            "reasoning_effort none → budget 0, no thoughts",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"reasoning_effort":"none"}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":0,"includeThoughts":false}}}"""
        },
        {
            "thinking budget on 2.5-pro → thinkingBudget",
            "gemini-2.5-pro",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"thinking":{"type":"enabled","budget_tokens":2000}}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":2000,"includeThoughts":true}}}"""
        },
        {
            "gemini-3 without thinking: temperature 1.0 and a low level injected; penalties left out",
            "gemini-3-pro-preview",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"presence_penalty":0.5}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"temperature":1.0,"thinkingConfig":{"thinkingLevel":"low"}}}"""
        },
        {
            "gemini-3 medium → high unless the model has a medium level",
            "gemini-3-pro-preview",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"reasoning_effort":"medium","temperature":0.3}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"temperature":0.3,"thinkingConfig":{"thinkingLevel":"high","includeThoughts":true}}}"""
        },
        {
            "Gemini-specific extras: top_k, safety_settings, cached_content",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"top_k":40,"safety_settings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],"cached_content":"cachedContents/abc"}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],"generationConfig":{"top_k":40},"cachedContent":"cachedContents/abc"}"""
        },
        {
            "OpenAI-only fields never reach Gemini",
            "gemini-2.5-flash",
            """{"model":"m","messages":[{"role":"user","content":"go"}],"user":"u1","stream":true,"stream_options":{"include_usage":true},"logit_bias":{"1":2},"metadata":{"a":"b"},"drop_params":true}""",
            """{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{}}"""
        },
        {
            "modalities → responseModalities",
            "gemini-2.5-flash-image",
            """{"model":"m","messages":[{"role":"user","content":"draw"}],"modalities":["text","image"]}""",
            """{"contents":[{"role":"user","parts":[{"text":"draw"}]}],"generationConfig":{"responseModalities":["TEXT","IMAGE"]}}"""
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Request_translates_to_the_gemini_body(string name, string model, string request, string expected)
    {
        Assert.NotNull(name);
        GeminiTestContext.AssertJsonEqual(expected, GeminiTestContext.WriteBody(request, model));
    }

    [Fact]
    public void Dropped_params_are_left_out()
    {
        var body = GeminiTestContext.WriteBody("""{"model":"m","messages":[{"role":"user","content":"go"}],"seed":1,"temperature":0.5}""", dropped: ["seed"]);
        GeminiTestContext.AssertJsonEqual("""{"contents":[{"role":"user","parts":[{"text":"go"}]}],"generationConfig":{"temperature":0.5}}""", body);
    }

    [Fact]
    public void Labels_reach_vertex_only()
    {
        const string request = """{"model":"m","messages":[{"role":"user","content":"go"}],"labels":{"team":"a"}}""";
        Assert.Equal("a", GeminiTestContext.WriteBody(request, vertex: true)!["labels"]!["team"]!.GetValue<string>());
        Assert.Null(GeminiTestContext.WriteBody(request, vertex: false)!["labels"]);

        var fromMetadata = GeminiTestContext.WriteBody("""{"model":"m","messages":[{"role":"user","content":"go"}],"metadata":{"requester_metadata":{"team":"b","n":3}}}""", vertex: true);
        GeminiTestContext.AssertJsonEqual("""{"team":"b"}""", fromMetadata!["labels"]);
    }

    public static TheoryData<string, string> Refused => new()
    {
        { """{"model":"m","messages":[{"role":"user","content":"go"}],"tool_choice":"sometimes","tools":[{"type":"function","function":{"name":"f"}}]}""", "tool_choice" },
        { """{"model":"m","messages":[{"role":"user","content":"go"}],"parallel_tool_calls":false,"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}]}""", "parallel_tool_calls" },
        { """{"model":"m","messages":[{"role":"user","content":"go"}],"reasoning_effort":"extreme"}""", "reasoning_effort" },
        { """{"model":"m","messages":[{"role":"user","content":"go"},{"role":"tool","tool_call_id":"nope","content":"x"}]}""", "messages[1]" },
        { """{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/picture"}}]}]}""", "messages[0].content" },
        { """{"model":"m","messages":[{"role":"user","content":"go"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"a":{"anyOf":[{"type":"null"}]}}}}}}""", "response_format.json_schema.schema" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Requests_gemini_cannot_take_are_refused_naming_the_param(string request, string param)
    {
        var ex = Assert.Throws<LlmException>(() => GeminiTestContext.WriteBody(request, "gemini-1.5-pro"));
        Assert.Equal(param, ex.Error.Param);
        Assert.Equal(400, ex.Error.HttpStatus);
    }
}
