using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Notify.Core.Messaging;

namespace Notify.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class PublishApiTests(ApiFixture api)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Create_AsAdmin_Returns201WithStoredSnakeCaseObject()
    {
        var user = ApiFixture.NewUser();
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(), new
        {
            user_id = user, type = "analysis", title = "Analysis finished", content = "000001 is ready",
            link = "/stocks/000001", source = "analysis", severity = "success", metadata = new { symbol = "000001" },
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await ApiFixture.ReadJsonAsync(response);
        var id = (string)body["id"]!;
        Assert.Equal($"/api/notifications/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(user, (string?)body["user_id"]);
        Assert.Equal("analysis", (string?)body["type"]);
        Assert.Equal("Analysis finished", (string?)body["title"]);
        Assert.Equal("/stocks/000001", (string?)body["link"]);
        Assert.Equal("success", (string?)body["severity"]);
        Assert.Equal("unread", (string?)body["status"]);
        Assert.Null(body["read_at"]);
        Assert.Equal("000001", (string?)body["metadata"]!["symbol"]);
        Assert.NotNull(body["created_at"]);

        using var get = await api.SendAsync(HttpMethod.Get, $"/api/notifications/{id}", api.UserToken(user));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(body.ToJsonString(), (await ApiFixture.ReadJsonAsync(get)).ToJsonString());
    }

    [Fact]
    public async Task Create_WithApiKey_Returns201()
    {
        var user = ApiFixture.NewUser();
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", body: new { user_id = user, type = "billing", title = "Invoice" },
            headers: new Dictionary<string, string> { ["X-Api-Key"] = ApiFixture.ApiKey });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(user, (string?)(await ApiFixture.ReadJsonAsync(response))["user_id"]);
    }

    [Fact]
    public async Task Create_WithUnknownApiKey_Returns401()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", body: new { user_id = "x", type = "t", title = "t" },
            headers: new Dictionary<string, string> { ["X-Api-Key"] = ApiFixture.ApiKey + "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("ApiKey header=\"X-Api-Key\"", Assert.Single(response.Headers.WwwAuthenticate).ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Create_AsPlainUser_Returns403()
    {
        var user = ApiFixture.NewUser();
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.UserToken(user), new { user_id = user, type = "t", title = "t" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Create_Anonymous_Returns401Problem()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", body: new { user_id = "x", type = "t", title = "t" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Create_Stored_ThenPublishedAsNotificationFrameOnUserTopic()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        Task<HttpStatusCode>? readOnArrival = null;
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user), frame =>
        {
            // Read the store the moment the frame arrives: it must already hold the notification.
            var id = (string)frame["data"]!["id"]!;
            readOnArrival = Task.Run(async () =>
            {
                using var r = await api.SendAsync(HttpMethod.Get, $"/api/notifications/{id}", token);
                return r.StatusCode;
            });
        });

        var created = await api.CreateAsync(user, title: "live");
        var frame = await probe.NextAsync();

        Assert.Equal("notification", (string?)frame["type"]);
        Assert.Equal((string?)created["id"], (string?)frame["data"]!["id"]);
        Assert.Equal("live", (string?)frame["data"]!["title"]);
        Assert.Equal(user, (string?)frame["data"]!["user_id"]);
        Assert.NotNull(readOnArrival);
        Assert.Equal(HttpStatusCode.OK, await readOnArrival!.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task Create_SameIdempotencyKeyConcurrently_StoresOneRowAndAnswersSameId()
    {
        var user = ApiFixture.NewUser();
        var admin = api.AdminToken();
        var key = Guid.NewGuid().ToString("N");
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => api.SendAsync(HttpMethod.Post, "/api/notifications", admin,
            new { user_id = user, type = "t", title = "once" }, new Dictionary<string, string> { ["Idempotency-Key"] = key })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = new HashSet<string>();
        foreach (var r in responses)
        {
            ids.Add((string)(await ApiFixture.ReadJsonAsync(r))["id"]!);
        }
        Assert.Single(ids);
        Assert.Equal(19, responses.Count(r => r.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Single() == "true"));
        foreach (var r in responses)
        {
            r.Dispose();
        }

        using var list = await api.SendAsync(HttpMethod.Get, "/api/notifications", api.UserToken(user));
        var items = (await ApiFixture.ReadJsonAsync(list))["items"]!.AsArray();
        Assert.Single(items);
        Assert.Equal(ids.Single(), (string?)items[0]!["id"]);
        Assert.Equal(ids.Single(), (string?)(await probe.NextAsync())["data"]!["id"]);
    }

    [Fact]
    public async Task Create_SequentialRetryWithSameKey_AnswersIdenticalBodyWithReplayHeader()
    {
        var user = ApiFixture.NewUser();
        var admin = api.AdminToken();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString("N") };
        var body = new { user_id = user, type = "t", title = "retry me" };

        using var first = await api.SendAsync(HttpMethod.Post, "/api/notifications", admin, body, headers);
        using var retry = await api.SendAsync(HttpMethod.Post, "/api/notifications", admin, body, headers);

        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(Ct), await retry.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Create_SameIdempotencyKeyForAnotherUser_CreatesSeparately()
    {
        var key = Guid.NewGuid().ToString("N");
        var a = await api.CreateAsync(ApiFixture.NewUser(), idempotencyKey: key);
        var b = await api.CreateAsync(ApiFixture.NewUser(), idempotencyKey: key);
        Assert.NotEqual((string?)a["id"], (string?)b["id"]);
    }

    [Fact]
    public async Task Create_SameIdempotencyKeyFromTwoServicesForOneUser_EachGetsItsOwnNotification()
    {
        var user = ApiFixture.NewUser();
        var key = Guid.NewGuid().ToString("N");
        Task<HttpResponseMessage> Send(string apiKey, string title) => api.SendAsync(HttpMethod.Post, "/api/notifications", body: new { user_id = user, type = "t", title },
            headers: new Dictionary<string, string> { ["X-Api-Key"] = apiKey, ["Idempotency-Key"] = key });

        using var billing = await Send(ApiFixture.ApiKey, "from billing");
        using var shipping = await Send(ApiFixture.OtherApiKey, "from shipping");
        using var billingRetry = await Send(ApiFixture.ApiKey, "from billing");
        var first = await ApiFixture.ReadJsonAsync(billing);
        var second = await ApiFixture.ReadJsonAsync(shipping);

        Assert.Equal(HttpStatusCode.Created, billing.StatusCode);
        Assert.Equal(HttpStatusCode.Created, shipping.StatusCode);
        Assert.False(shipping.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual((string?)first["id"], (string?)second["id"]);
        Assert.Equal("from shipping", (string?)second["title"]);
        Assert.Equal("true", billingRetry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal((string?)first["id"], (string?)(await ApiFixture.ReadJsonAsync(billingRetry))["id"]);
        using var list = await api.SendAsync(HttpMethod.Get, "/api/notifications", api.UserToken(user));
        Assert.Equal(2, (await ApiFixture.ReadJsonAsync(list))["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Create_SameIdempotencyKeyForADifferentRequest_Returns422NamingTheHeaderAndCreatesNothing()
    {
        var user = ApiFixture.NewUser();
        var admin = api.AdminToken();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString("N") };
        using var first = await api.SendAsync(HttpMethod.Post, "/api/notifications", admin, new { user_id = user, type = "t", title = "secret first" }, headers);
        var firstId = (string?)(await ApiFixture.ReadJsonAsync(first))["id"];

        using var changed = await api.SendAsync(HttpMethod.Post, "/api/notifications", admin, new { user_id = user, type = "t", title = "second" }, headers);
        using var sameOtherForm = await api.SendAsync(HttpMethod.Post, "/api/notifications/send", admin,
            new { target_user = user, notification_type = "t", content = "c" }, headers);
        var text = await changed.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, changed.StatusCode);
        Assert.Equal("application/problem+json", changed.Content.Headers.ContentType?.MediaType);
        Assert.True(System.Text.Json.Nodes.JsonNode.Parse(text)!["errors"]!.AsObject().ContainsKey("Idempotency-Key"), text);
        Assert.DoesNotContain(firstId!, text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret first", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, sameOtherForm.StatusCode);
        using var list = await api.SendAsync(HttpMethod.Get, "/api/notifications", api.UserToken(user));
        Assert.Equal(firstId, (string?)Assert.Single((await ApiFixture.ReadJsonAsync(list))["items"]!.AsArray())!["id"]);
    }

    [Fact]
    public async Task Create_MetadataWithExtendedJsonKeysAndHugeIntegers_ComesBackExactlyAsSent()
    {
        var user = ApiFixture.NewUser();
        const string metadata = """{"n":{"$numberLong":"5"},"big":123456789012345678901234567890,"one":1.0}""";

        using var created = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(),
            $$"""{"user_id":"{{user}}","type":"t","title":"t","metadata":{{metadata}}}""");
        var createdText = await created.Content.ReadAsStringAsync(Ct);
        using var read = await api.SendAsync(HttpMethod.Get, "/api/notifications", api.UserToken(user));
        var readText = await read.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains("\"metadata\":" + metadata, createdText, StringComparison.Ordinal);
        Assert.Contains("\"metadata\":" + metadata, readText, StringComparison.Ordinal);
    }

    public static TheoryData<string, object, bool> FieldEdges()
    {
        var data = new TheoryData<string, object, bool>();
        void Add(string field, object value, bool ok) => data.Add(field, value, ok);
        Add("title", new string('t', 200), true);
        Add("title", new string('t', 201), false);
        Add("title", "", false);
        Add("content", new string('c', 4_000), true);
        Add("content", new string('c', 4_001), false);
        Add("link", new string('l', 2_048), true);
        Add("link", new string('l', 2_049), false);
        Add("type", new string('a', 64), true);
        Add("type", new string('a', 65), false);
        Add("type", "has space", false);
        Add("type", "ok_type.v1:x-y", true);
        Add("source", new string('s', 64), true);
        Add("source", new string('s', 65), false);
        Add("source", "bad/char", false);
        Add("severity", "warning", true);
        Add("severity", "fatal", false);
        Add("user_id", "", false);
        Add("user_id", new string('u', 129), false);
        Add("metadata", "not-an-object", false);
        return data;
    }

    [Theory]
    [MemberData(nameof(FieldEdges))]
    public async Task Create_FieldAtAndOverLimit_AcceptedOr400NamingField(string field, object value, bool ok)
    {
        var body = new JsonObject { ["user_id"] = ApiFixture.NewUser(), ["type"] = "t", ["title"] = "t" };
        body[field] = JsonValue.Create(value);
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(), body.ToJsonString());

        if (ok)
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        else
        {
            await ApiFixture.AssertFieldErrorAsync(response, field);
        }
    }

    [Theory]
    [InlineData(8_192, true)]
    [InlineData(8_193, false)]
    public async Task Create_MetadataAtAndOver8KiB_AcceptedOr400(int serializedBytes, bool ok)
    {
        // {"k":"..."} is 8 bytes around the string.
        var metadata = new JsonObject { ["k"] = new string('m', serializedBytes - 8) };
        Assert.Equal(serializedBytes, Encoding.UTF8.GetByteCount(metadata.ToJsonString()));
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(),
            new { user_id = ApiFixture.NewUser(), type = "t", title = "t", metadata });

        if (ok)
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        else
        {
            await ApiFixture.AssertFieldErrorAsync(response, "metadata");
        }
    }

    [Fact]
    public async Task Create_MalformedJson_Returns400Problem()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(), "{\"user_id\": \"a\", \"type\": ");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Create_NonJsonContentType_Returns415Problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/notifications") { Content = new StringContent("user_id=a", Encoding.UTF8, "text/plain") };
        request.Headers.Authorization = new("Bearer", api.AdminToken());
        using var response = await api.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Create_FieldOfWrongJsonType_Returns400NamingField()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(), "{\"user_id\":\"a\",\"type\":\"t\",\"title\":5}");
        await ApiFixture.AssertFieldErrorAsync(response, "title");
    }

    [Fact]
    public async Task Create_InvalidIdempotencyKey_Returns400NamingHeader()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(),
            new { user_id = ApiFixture.NewUser(), type = "t", title = "t" }, new Dictionary<string, string> { ["Idempotency-Key"] = new string('k', 201) });
        await ApiFixture.AssertFieldErrorAsync(response, "Idempotency-Key");
    }

    [Fact]
    public async Task Create_BodyOverLimit_Returns413Problem()
    {
        var body = new { user_id = ApiFixture.NewUser(), type = "t", title = "t", content = new string('x', 70 * 1024) };
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(), body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Create_ChunkedBodyOverLimit_Returns413()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/notifications")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(
                "{\"user_id\":\"u\",\"type\":\"t\",\"title\":\"" + new string('x', 70 * 1024) + "\"}"))),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Authorization = new("Bearer", api.AdminToken());
        using var response = await api.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Send_SeedForm_CreatesNotificationWithTypeTitleAndMetadata()
    {
        var user = ApiFixture.NewUser();
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/send", api.AdminToken(),
            new { target_user = user, notification_type = "order", content = "Order 42 shipped", channel = "public:orders", data = new { order = 42 } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await ApiFixture.ReadJsonAsync(response);
        Assert.Equal(user, (string?)body["user_id"]);
        Assert.Equal("order", (string?)body["type"]);
        Assert.Equal("order", (string?)body["title"]);
        Assert.Equal("Order 42 shipped", (string?)body["content"]);
        Assert.Equal(42, (int?)body["metadata"]!["order"]);
        Assert.Equal("public:orders", (string?)body["metadata"]!["channel"]);
        Assert.Equal((string?)body["id"], (string?)(await probe.NextOfTypeAsync("notification"))["data"]!["id"]);
    }

    [Theory]
    [InlineData("target_user")]
    [InlineData("notification_type")]
    [InlineData("content")]
    public async Task Send_MissingField_Returns400NamingIt(string field)
    {
        var body = new JsonObject { ["target_user"] = ApiFixture.NewUser(), ["notification_type"] = "t", ["content"] = "c" };
        body.Remove(field);
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/send", api.AdminToken(), body.ToJsonString());
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Fact]
    public async Task Send_BadChannel_Returns400NamingChannel()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/send", api.AdminToken(),
            new { target_user = ApiFixture.NewUser(), notification_type = "t", content = "c", channel = "Bad Channel" });
        await ApiFixture.AssertFieldErrorAsync(response, "channel");
    }

    [Fact]
    public async Task Broadcast_ToPublicChannel_Returns202AndPublishesMessageFrameInHistory()
    {
        var channel = $"public:{Guid.NewGuid():N}";
        await using var probe = await BusProbe.StartAsync(api, BusTopic.Channel(channel));
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/broadcast", api.AdminToken(),
            new { type = "maintenance", title = "Maintenance", content = "Back at 02:00", channel, level = "warning" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await ApiFixture.ReadJsonAsync(response);
        var frame = await probe.NextAsync();
        Assert.Equal("message", (string?)frame["type"]);
        Assert.Equal(channel, (string?)frame["data"]!["channel"]);
        Assert.Equal((string?)body["id"], (string?)frame["data"]!["id"]);
        Assert.Equal(channel, (string?)body["channel"]);
        var payload = frame["data"]!["payload"]!;
        Assert.Equal("maintenance", (string?)payload["type"]);
        Assert.Equal("Maintenance", (string?)payload["title"]);
        Assert.Equal("Back at 02:00", (string?)payload["content"]);
        Assert.Equal("warning", (string?)payload["level"]);

        await using var redis = await api.Redis.ConnectAsync();
        var history = await redis.GetDatabase().StreamRangeAsync(new RedisChannels().History(BusTopic.Channel(channel)));
        Assert.Equal((string?)body["id"], (string?)Assert.Single(history).Id);
    }

    [Fact]
    public async Task Broadcast_ToUserChannel_Returns202AndPublishesOnThatUsersChannel()
    {
        var channel = "user:" + ApiFixture.NewUser("chan");
        await using var probe = await BusProbe.StartAsync(api, BusTopic.Channel(channel));
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/broadcast", body: new { type = "export_ready", content = "Your export is ready", channel },
            headers: new Dictionary<string, string> { ["X-Api-Key"] = ApiFixture.ApiKey });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var frame = await probe.NextAsync();
        Assert.Equal("message", (string?)frame["type"]);
        Assert.Equal(channel, (string?)frame["data"]!["channel"]);
        Assert.Equal("export_ready", (string?)frame["data"]!["payload"]!["type"]);
    }

    [Fact]
    public async Task Broadcast_WithoutChannel_PublishesToEveryoneWithDefaults()
    {
        await using var probe = await BusProbe.StartAsync(api, BusTopic.Broadcast);
        var type = "all" + Guid.NewGuid().ToString("N")[..8];
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/broadcast", body: new { type, content = "hello all" },
            headers: new Dictionary<string, string> { ["X-Api-Key"] = ApiFixture.ApiKey });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        JsonObject frame;
        do
        {
            frame = await probe.NextAsync();
        }
        while ((string?)frame["data"]!["payload"]!["type"] != type);
        Assert.Equal("broadcast", (string?)frame["data"]!["channel"]);
        Assert.Equal("", (string?)frame["data"]!["payload"]!["title"]);
        Assert.Equal("info", (string?)frame["data"]!["payload"]!["level"]);
    }

    [Theory]
    [InlineData("channel", "private:alice")]
    [InlineData("channel", "user:")]
    [InlineData("channel", "UPPER")]
    [InlineData("level", "fatal")]
    [InlineData("type", "")]
    [InlineData("content", "")]
    public async Task Broadcast_InvalidField_Returns400NamingIt(string field, string value)
    {
        var body = new JsonObject { ["type"] = "t", ["content"] = "c", [field] = value };
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/broadcast", api.AdminToken(), body.ToJsonString());
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Fact]
    public async Task Broadcast_AsPlainUser_Returns403()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/broadcast", api.UserToken(ApiFixture.NewUser()), new { type = "t", content = "c" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
