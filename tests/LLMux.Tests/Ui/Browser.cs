using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace LLMux.Tests.Ui;

/// <summary>
/// Debian's headless Chromium driven through its ChromeDriver (packages <c>chromium</c> and <c>chromium-driver</c>,
/// installed by .ci/run). Skips when they are missing on a developer's machine; fails under CI.
/// </summary>
internal sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    public ChromeDriver Driver { get; }
    public Uri Root { get; }

    private Browser(ChromeDriver driver, Uri root)
    {
        Driver = driver;
        Root = root;
    }

    public static Browser Start(Uri root, int width = 1280, int height = 900)
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(DriverPath))
        {
            var message = "Chromium and ChromeDriver are not installed: apt-get install chromium chromium-driver (the CI script does)";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(message);
            Skip.If(true, message);
        }
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--window-size={width},{height}",
            "--no-first-run", "--disable-extensions", "--disable-background-networking", "--lang=en-US");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        return new Browser(driver, root);
    }

    public void Open(string path) => Driver.Navigate().GoToUrl(new Uri(Root, path));

    public IWebElement Find(string css) => Wait(d => d.FindElements(By.CssSelector(css)).FirstOrDefault(static e => e.Displayed), $"an element `{css}`");

    public T Wait<T>(Func<IWebDriver, T?> condition, string what, int seconds = 15)
    {
        var wait = new WebDriverWait(Driver, TimeSpan.FromSeconds(seconds));
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        try
        {
            return wait.Until(d => condition(d))!;
        }
        catch (WebDriverTimeoutException)
        {
            Assert.Fail($"waited {seconds} s for {what}; the page is {Driver.Url}: {Text("body")}");
            throw;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds (exceptions of a page being replaced count as not yet).</summary>
    public void Until(Func<IWebDriver, bool> condition, string what, int seconds = 15) =>
        Wait<object>(d => condition(d) ? true : null, what, seconds);

    public string Text(string css) => Driver.FindElements(By.CssSelector(css)).FirstOrDefault()?.Text ?? "";

    public void Fill(string css, string value)
    {
        var input = Find(css);
        input.Clear();
        input.SendKeys(value);
    }

    public void Choose(string css, string visibleText) =>
        Find(css).FindElements(By.TagName("option")).First(o => o.Text == visibleText).Click();

    /// <summary>Saves a PNG of the page to <c>docs/ui/&lt;name&gt;.png</c> in the repository (CI keeps them as artefacts).</summary>
    public void Screenshot(string name)
    {
        var dir = Path.Combine(RepoRoot(), "docs", "ui");
        Directory.CreateDirectory(dir);
        Driver.GetScreenshot().SaveAsFile(Path.Combine(dir, name + ".png"));
    }

    /// <summary>Emulates the system's dark (or light) colour scheme through the DevTools protocol.</summary>
    public void ColorScheme(string scheme) =>
        Driver.ExecuteCdpCommand("Emulation.setEmulatedMedia", new Dictionary<string, object?> { ["features"] = new object[] { new Dictionary<string, object?> { ["name"] = "prefers-color-scheme", ["value"] = scheme } } });

    public void Resize(int width, int height) => Driver.Manage().Window.Size = new System.Drawing.Size(width, height);

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LLMux.sln"))) return dir.FullName;
        return Path.GetTempPath();
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}
