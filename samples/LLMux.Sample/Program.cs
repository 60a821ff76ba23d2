using LLMux.Pipeline.Errors;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.AI;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddLLMux(builder.Configuration.GetSection("LLMux")); // model_list / litellm_settings / router_settings
var app = builder.Build();

// Any Microsoft.Extensions.AI code runs on every LLMux provider.
app.MapGet("/ask", async (string q, IChatClient chat, CancellationToken ct) => (await chat.GetResponseAsync(q, cancellationToken: ct)).Text);

// An OpenAI-compatible proxy route: bytes in, the OpenAI answer (JSON or SSE) out.
app.MapPost("/v1/chat/completions", async (HttpContext http, ILlmClient llm) =>
{
    using var body = new MemoryStream();
    await http.Request.Body.CopyToAsync(body, http.RequestAborted);
    try
    {
        await using var answer = await llm.SendRawAsync(body.ToArray(), cancellationToken: http.RequestAborted);
        http.Response.ContentType = answer.IsStream ? "text/event-stream" : "application/json";
        await answer.CopyToAsync(http.Response.Body, http.RequestAborted);
    }
    catch (LlmException ex)
    {
        http.Response.StatusCode = ex.Error.HttpStatus;
        await http.Response.WriteAsJsonAsync(new { error = new { message = ex.Error.Message, type = ex.Error.Type, param = ex.Error.Param, code = ex.Error.Code } });
    }
});
app.Run();
