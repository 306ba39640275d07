using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Api;

/// <summary>
/// One real Api process (with a real Redis and a temp SQLite file) shared by the tests of a class.
/// Tests never share data: each uses its own user ids (<see cref="NewUser"/>).
/// </summary>
public class ApiFixture : IAsyncLifetime
{
    public const string ApiKey = "test-api-key-billing-0123456789abcdef";
    public const string OtherApiKey = "test-api-key-shipping-0123456789abcdef";
    public const string WebOrigin = "http://web.example.test";

    private readonly RedisServer _redis = new();
    private readonly string _sqlitePath = Path.Combine(Path.GetTempPath(), $"notify-api-test-{Guid.NewGuid():N}.db");
    private ServiceProcess? _api;

    public RedisServer Redis => _redis;

    public ServiceProcess Api => _api ?? throw new InvalidOperationException("not started");

    public HttpClient Http { get; private set; } = null!;

    public NotifyTokens Tokens { get; } = CreateTokens(TestEnvironment.SigningKey, TimeProvider.System);

    /// <summary>Extra environment of this fixture's Api process.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraEnvironment => [];

    public async ValueTask InitializeAsync()
    {
        await _redis.InitializeAsync();
        var env = new Dictionary<string, string?>(TestEnvironment.For(_redis, _sqlitePath))
        {
            ["Auth__ApiKeys__billing"] = ApiKey,
            ["Auth__ApiKeys__shipping"] = OtherApiKey,
            ["Cors__Origins__0"] = WebOrigin,
        };
        foreach (var (key, value) in ExtraEnvironment)
        {
            env[key] = value;
        }
        _api = await ServiceProcess.StartAsync("Notify.Api", env);
        Http = new HttpClient { BaseAddress = _api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
        await _redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
        GC.SuppressFinalize(this);
    }

    /// <summary>A user id no other test uses.</summary>
    public static string NewUser(string prefix = "u") => $"{prefix}-{Guid.NewGuid():N}";

    public string UserToken(string userId) => Tokens.Issue(userId, [], TimeSpan.FromHours(1)).Token;

    public string AdminToken() => Tokens.Issue(NewUser("admin"), [NotifyRoles.Admin], TimeSpan.FromHours(1)).Token;

    public static NotifyTokens CreateTokens(string key, TimeProvider time) =>
        new(Options.Create(new AuthOptions { SigningKey = key }), time);

    /// <summary>Sends a request with an optional bearer token, JSON body and headers.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token = null, object? body = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (body is string raw)
        {
            request.Content = new StringContent(raw, Encoding.UTF8, "application/json");
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Creates a notification for <paramref name="userId"/> as an admin and returns the stored object.</summary>
    public async Task<JsonObject> CreateAsync(string userId, string type = "test", string title = "hello", string? idempotencyKey = null)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/notifications", AdminToken(),
            new { user_id = userId, type, title, content = "body" },
            idempotencyKey is null ? null : new Dictionary<string, string> { ["Idempotency-Key"] = idempotencyKey });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await ReadJsonAsync(response);
    }

    public static async Task<JsonObject> ReadJsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();

    /// <summary>Asserts a 400 validation problem whose <c>errors</c> name <paramref name="field"/>.</summary>
    public static async Task AssertFieldErrorAsync(HttpResponseMessage response, string field)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonNode.Parse(text)!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"errors should name {field}: {text}");
    }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
