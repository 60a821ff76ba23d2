using System.Runtime.CompilerServices;

namespace LLMux.Tests.Infrastructure;

/// <summary>Every test host goes through <see cref="TestApp"/>, so that none shares the test Redis's default namespace by accident.</summary>
public sealed class TestAppGuardTests
{
    private static string TestsFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(Path.GetDirectoryName(path)!)!;

    [Fact]
    public void No_test_builds_a_host_without_TestApp()
    {
        var folder = TestsFolder();
        Assert.True(File.Exists(Path.Combine(folder, "Infrastructure", "TestApp.cs")), folder);
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) continue;
            var name = Path.GetFileName(file);
            if (name is "TestApp.cs" or "TestAppGuardTests.cs") continue;
            if (File.ReadAllText(file).Contains("LlmuxApp.Build(", StringComparison.Ordinal)) offenders.Add(Path.GetRelativePath(folder, file));
        }
        Assert.True(offenders.Count == 0, "build test hosts with TestApp.Build (a Redis namespace of their own): " + string.Join(", ", offenders));
    }
}
