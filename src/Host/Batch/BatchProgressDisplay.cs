using Spectre.Console;

namespace LLMux.Host.Batch;

/// <summary>Shows a run's progress: a Spectre.Console bar on a terminal, a plain line every few seconds when output is redirected.</summary>
internal static class BatchProgressDisplay
{
    public static async Task<T> RunAsync<T>(BatchProgress progress, Func<Task<T>> work, CancellationToken stop)
    {
        if (Console.IsErrorRedirected || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
            return await PlainAsync(progress, work).ConfigureAwait(false);
        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("batch", maxValue: Math.Max(1, progress.Total));
                var running = work();
                while (!running.IsCompleted)
                {
                    task.MaxValue = Math.Max(1, progress.Total);
                    task.Value = progress.Done;
                    task.Description = Markup.Escape(progress.Describe());
                    await Task.WhenAny(running, Task.Delay(250, CancellationToken.None)).ConfigureAwait(false);
                }
                task.Value = progress.Done;
                task.Description = Markup.Escape(progress.Describe());
                result = await running.ConfigureAwait(false);
            }).ConfigureAwait(false);
        _ = stop;
        return result;
    }

    private static async Task<T> PlainAsync<T>(BatchProgress progress, Func<Task<T>> work)
    {
        var running = work();
        while (!running.IsCompleted)
        {
            await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)).ConfigureAwait(false);
            if (!running.IsCompleted) Console.Error.WriteLine("llmux batch: " + progress.Describe());
        }
        return await running.ConfigureAwait(false);
    }
}
