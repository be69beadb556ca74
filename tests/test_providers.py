"""Rendering: each of the 20 OneAll Push endpoints gets exactly the request the API documents.

Every expectation below is written out by hand from `/work/shared/oneall-push-api.md` (the
Endpoints table and "Posts with media are several requests"), never computed from
`runner.oneall.endpoints.ENDPOINTS`: the point is an independent check of the table and renderer.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from runner.calendar import Calendar
from runner.calendar.build import build
from runner.calendar.files import load_text
from runner.oneall import ENDPOINTS, Ref, Request
from runner.oneall.render import fill, render, shown

FB = "923843ec-1749-4cc1-988f-d6963f3b1baa"
LI = "5d2c9a40-3b7e-4f0a-8c1d-2e6f4b9a7c30"
PIN = "8f4b2e61-7a9c-4d3e-b1f0-5c6a8d2e4f97"
X = "1b0e3c7a-55f1-4d0e-9d55-0c1f7f2e8a11"
YT = "3a9d7c15-2e4b-4f8a-9c6d-1b0e5f7a2d83"

HEADER = f"""\
version: 1
timezone: Europe/Berlin
accounts:
  fb-profile: {{provider: facebook, identity: {FB}}}
  fb-page:    {{provider: facebook, identity: {FB}, page: "4563453"}}
  fb-group:   {{provider: facebook, identity: {FB}, group: "77120034"}}
  li-profile: {{provider: linkedin, identity: {LI}}}
  li-company: {{provider: linkedin, identity: {LI}, company: "10442391"}}
  pins:       {{provider: pinterest, identity: {PIN}, board: "549755813888"}}
  x:          {{provider: twitter, identity: {X}}}
  tube:       {{provider: youtube, identity: {YT}, callback_url: "https://hooks.example.com/oneall"}}
media:
  photo: {{url: "https://cdn.example.com/photo.jpg", type: picture, description: "A photo"}}
  plain: {{url: "https://cdn.example.com/plain.png", type: picture}}
  clip:  {{url: "https://cdn.example.com/clip.mp4", type: video, title: "A clip",
          description: "A short clip"}}
  thumb: {{url: "https://cdn.example.com/thumb.jpg", type: picture}}
"""


def calendar(entries: str) -> Calendar:
    """The shared accounts and media plus `entries` (YAML), loaded and validated."""
    return build([load_text(HEADER + textwrap.dedent(entries), "cal.yaml")])


def rendered(entries: str, entry: str, account: str) -> list[Request]:
    cal = calendar(entries)
    return render(cal, cal.entries[entry], cal.accounts[account])


def one(entries: str, entry: str, account: str) -> tuple[str, str, Any]:
    """The single request of a one-step entry as (method, path, JSON body as sent)."""
    requests = rendered(entries, entry, account)
    assert len(requests) == 1, requests
    (request,) = requests
    assert request.step == "publish"
    return request.method, request.path, wire(request.body)


def wire(body: Any) -> Any:
    """The body as it would cross the wire (tuples become arrays), Refs shown as text."""
    return json.loads(json.dumps(shown(body)))


# -- 1-9: Facebook ---------------------------------------------------------------------------

def test_1_facebook_post_with_message_and_link() -> None:
    got = one("""
        posts:
          - {id: p, at: "2026-12-01 09:00", to: [fb-profile], message: "Read this",
             link: "https://example.com/a"}
    """, "p", "fb-profile")
    assert got == ("POST", f"/push/identities/{FB}/facebook/post.json", {
        "request": {"push": {"post": {"message": "Read this", "link": "https://example.com/a"}}}})


def test_2_facebook_picture_posts_by_default() -> None:
    got = one("""
        pictures:
          - {id: p, at: "2026-12-01 09:00", to: [fb-profile], media: photo}
    """, "p", "fb-profile")
    # No create_post: its default (true) is what a picture entry wants.
    assert got == ("POST", f"/push/identities/{FB}/facebook/picture.json", {
        "request": {"push": {"picture": {"url": "https://cdn.example.com/photo.jpg",
                                         "description": "A photo"}}}})


def test_3_facebook_video() -> None:
    got = one("""
        videos:
          - {id: v, at: "2026-12-01 09:00", to: [fb-profile], media: clip, description: "Watch"}
    """, "v", "fb-profile")
    assert got == ("POST", f"/push/identities/{FB}/facebook/video.json", {
        "request": {"push": {"video": {"url": "https://cdn.example.com/clip.mp4",
                                       "description": "Watch"}}}})


def test_4_facebook_group_post() -> None:
    got = one("""
        posts:
          - {id: p, at: "2026-12-01 09:00", to: [fb-group], message: "Hello group"}
    """, "p", "fb-group")
    assert got == ("POST", f"/push/identities/{FB}/facebook/group/post.json", {
        "request": {"push": {"group": {"id": "77120034", "message": "Hello group"}}}})


def test_5_facebook_group_picture() -> None:
    got = one("""
        pictures:
          - {id: p, at: "2026-12-01 09:00", to: [fb-group], media: photo, description: "In the group"}
    """, "p", "fb-group")
    assert got == ("POST", f"/push/identities/{FB}/facebook/group/picture.json", {
        "request": {"push": {"group": {"id": "77120034", "url": "https://cdn.example.com/photo.jpg",
                                       "description": "In the group"}}}})


def test_6_facebook_group_video() -> None:
    got = one("""
        videos:
          - {id: v, at: "2026-12-01 09:00", to: [fb-group], media: clip}
    """, "v", "fb-group")
    assert got == ("POST", f"/push/identities/{FB}/facebook/group/video.json", {
        "request": {"push": {"group": {"id": "77120034", "url": "https://cdn.example.com/clip.mp4",
                                       "description": "A short clip"}}}})


def test_7_facebook_page_post() -> None:
    got = one("""
        posts:
          - {id: p, at: "2026-12-01 09:00", to: [fb-page], message: "We're live!",
             link: "https://example.com/launch"}
    """, "p", "fb-page")
    assert got == ("POST", f"/push/identities/{FB}/facebook/page/post.json", {
        "request": {"push": {"page": {"id": "4563453", "message": "We're live!",
                                      "link": "https://example.com/launch"}}}})


def test_8_facebook_page_picture_without_any_description() -> None:
    got = one("""
        pictures:
          - {id: p, at: "2026-12-01 09:00", to: [fb-page], media: plain}
    """, "p", "fb-page")
    # Absent optional fields are left out, never sent as null.
    assert got == ("POST", f"/push/identities/{FB}/facebook/page/picture.json", {
        "request": {"push": {"page": {"id": "4563453", "url": "https://cdn.example.com/plain.png"}}}})


def test_9_facebook_page_video() -> None:
    got = one("""
        videos:
          - {id: v, at: "2026-12-01 09:00", to: [fb-page], media: clip, description: "The tour"}
    """, "v", "fb-page")
    assert got == ("POST", f"/push/identities/{FB}/facebook/page/video.json", {
        "request": {"push": {"page": {"id": "4563453", "url": "https://cdn.example.com/clip.mp4",
                                      "description": "The tour"}}}})


# -- 10-11: LinkedIn -------------------------------------------------------------------------

def test_10_linkedin_profile_post_takes_the_picture_url_from_the_medium() -> None:
    got = one("""
        posts:
          - {id: p, at: "2026-12-01 09:00", to: [li-profile], message: "On LinkedIn",
             link: "https://example.com/b", title: "A title", description: "A description",
             media: [photo]}
    """, "p", "li-profile")
    assert got == ("POST", f"/push/identities/{LI}/linkedin/post.json", {
        "request": {"push": {"post": {
            "message": "On LinkedIn", "link": "https://example.com/b", "title": "A title",
            "description": "A description", "picture": "https://cdn.example.com/photo.jpg"}}}})


def test_11_linkedin_company_post() -> None:
    got = one("""
        posts:
          - {id: p, at: "2026-12-01 09:00", to: [li-company], message: "Company news"}
    """, "p", "li-company")
    assert got == ("POST", f"/push/identities/{LI}/linkedin/company/post.json", {
        "request": {"push": {"post": {"company": "10442391", "message": "Company news"}}}})


def test_linkedin_post_with_media_is_one_request_not_an_upload() -> None:
    requests = rendered("""
        posts:
          - {id: p, at: "2026-12-01 09:00", to: [li-company], message: "New", media: [plain]}
    """, "p", "li-company")
    assert [(r.step, r.endpoint) for r in requests] == [("publish", "linkedin/company/post")]
    assert wire(requests[0].body) == {"request": {"push": {"post": {
        "company": "10442391", "message": "New", "picture": "https://cdn.example.com/plain.png"}}}}


# -- 12-13: Pinterest ------------------------------------------------------------------------

def test_12_pinterest_pin_on_the_accounts_board() -> None:
    got = one("""
        pins:
          - {id: p, at: "2026-12-01 09:00", to: [pins], media: photo, description: "A pin",
             link: "https://example.com/d"}
    """, "p", "pins")
    assert got == ("POST", f"/push/identities/{PIN}/pinterest/board/549755813888/pin.json", {
        "request": {"push": {"pin": {"picture": "https://cdn.example.com/photo.jpg",
                                     "description": "A pin", "link": "https://example.com/d"}}}})


def test_12_pinterest_pin_board_given_on_the_entry_wins() -> None:
    got = one("""
        pins:
          - {id: p, at: "2026-12-01 09:00", to: [pins], media: plain, board: "400000000002"}
    """, "p", "pins")
    assert got == ("POST", f"/push/identities/{PIN}/pinterest/board/400000000002/pin.json", {
        "request": {"push": {"pin": {"picture": "https://cdn.example.com/plain.png"}}}})


def test_13_pinterest_board() -> None:
    got = one("""
        boards:
          - {id: b, at: "2026-12-01 09:00", to: [pins], name: "Recipes", description: "Our recipes"}
    """, "b", "pins")
    assert got == ("POST", f"/push/identities/{PIN}/pinterest/board.json", {
        "request": {"push": {"board": {"name": "Recipes", "description": "Our recipes"}}}})


# -- 14-16: Twitter --------------------------------------------------------------------------

def test_14_tweet_has_its_link_appended_to_the_message() -> None:
    got = one("""
        posts:
          - {id: t, at: "2026-12-01 09:00", to: [x], message: "Read the post",
             link: "https://example.com/blog", location: "df51dec6f4ee2b2c"}
    """, "t", "x")
    assert got == ("POST", f"/push/identities/{X}/twitter/post.json", {
        "request": {"push": {"post": {"message": "Read the post https://example.com/blog",
                                      "location": "df51dec6f4ee2b2c"}}}})


def test_15_tweet_with_pictures_uploads_each_then_attaches_their_ids() -> None:
    requests = rendered("""
        posts:
          - {id: t, at: "2026-12-01 09:00", to: [x], message: "Two pictures", media: [photo, plain]}
    """, "t", "x")
    assert [(r.step, r.method, r.path, wire(r.body)) for r in requests] == [
        ("upload photo", "POST", f"/push/identities/{X}/twitter/picture.json",
         {"request": {"push": {"picture": {"url": "https://cdn.example.com/photo.jpg",
                                           "description": "A photo"}}}}),
        ("upload plain", "POST", f"/push/identities/{X}/twitter/picture.json",
         {"request": {"push": {"picture": {"url": "https://cdn.example.com/plain.png"}}}}),
        ("publish", "POST", f"/push/identities/{X}/twitter/post.json",
         {"request": {"push": {"post": {"message": "Two pictures", "attachments": [
             "<picture_id from upload photo>", "<picture_id from upload plain>"]}}}}),
    ]
    assert requests[2].body["request"]["push"]["post"]["attachments"] == [
        Ref("upload photo", "picture_id"), Ref("upload plain", "picture_id")]
    filled = fill(requests[2].body, {"upload photo": {"picture_id": "1001"},
                                     "upload plain": {"picture_id": "1002"}})
    assert json.loads(json.dumps(filled)) == {"request": {"push": {"post": {
        "message": "Two pictures", "attachments": ["1001", "1002"]}}}}


def test_16_twitter_video_is_asynchronous_with_the_accounts_or_entrys_callback() -> None:
    got = one("""
        videos:
          - {id: v, at: "2026-12-01 09:00", to: [x], media: clip,
             callback_url: "https://hooks.example.com/x"}
    """, "v", "x")
    assert got == ("POST", f"/push/identities/{X}/twitter/video.json", {
        "request": {"push": {"video": {"video_url": "https://cdn.example.com/clip.mp4",
                                       "callback_url": "https://hooks.example.com/x"}}}})
    requests = rendered("""
        videos:
          - {id: v, at: "2026-12-01 09:00", to: [x], media: clip}
    """, "v", "x")
    assert requests[0].asynchronous
    assert wire(requests[0].body) == {"request": {"push": {"video": {
        "video_url": "https://cdn.example.com/clip.mp4"}}}}


# -- 17-20: YouTube --------------------------------------------------------------------------

def test_17_youtube_upload_takes_title_from_the_medium_and_callback_from_the_account() -> None:
    requests = rendered("""
        videos:
          - {id: v, at: "2026-12-01 09:00", to: [tube], media: clip, thumbnail: thumb,
             description: "On YouTube"}
    """, "v", "tube")
    assert [(r.method, r.path, wire(r.body), r.asynchronous) for r in requests] == [
        ("POST", f"/push/identities/{YT}/youtube/video.json", {"request": {"push": {"video": {
            "video_url": "https://cdn.example.com/clip.mp4", "title": "A clip",
            "description": "On YouTube", "thumbnail_url": "https://cdn.example.com/thumb.jpg",
            "callback_url": "https://hooks.example.com/oneall"}}}}, True)]


def test_17_youtube_upload_entry_title_and_callback_win() -> None:
    got = one("""
        videos:
          - {id: v, at: "2026-12-01 09:00", to: [tube], media: clip, title: "Better title",
             callback_url: "https://hooks.example.com/yt"}
    """, "v", "tube")
    assert got == ("POST", f"/push/identities/{YT}/youtube/video.json", {
        "request": {"push": {"video": {
            "video_url": "https://cdn.example.com/clip.mp4", "title": "Better title",
            "description": "A short clip", "callback_url": "https://hooks.example.com/yt"}}}})


def test_18_youtube_playlist_item() -> None:
    got = one("""
        playlist_items:
          - {id: i, at: "2026-12-01 09:00", to: [tube], playlist: "PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
             video: "dQw4w9WgXcQ", position: 0}
    """, "i", "tube")
    assert got == ("POST",
                   f"/push/identities/{YT}/youtube/playlist/PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG/video.json",
                   {"request": {"push": {"video": {"id": "dQw4w9WgXcQ", "position": 0}}}})


def test_19_youtube_playlist() -> None:
    got = one("""
        playlists:
          - {id: l, at: "2026-12-01 09:00", to: [tube], title: "Winter", description: "Cold months",
             privacy: unlisted, language: de}
    """, "l", "tube")
    assert got == ("POST", f"/push/identities/{YT}/youtube/playlist.json", {
        "request": {"push": {"playlist": {"title": "Winter", "description": "Cold months",
                                          "privacy_status": "unlisted", "default_language": "de"}}}})


def test_20_youtube_channel_section_nests_section_in_channel() -> None:
    got = one("""
        channel_sections:
          - {id: s, at: "2026-12-01 09:00", to: [tube], type: multiplePlaylists, style: horizontalRow,
             title: "Favourites", position: 2, language: en,
             playlists: ["PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", "PLbpi6ZahtOH6Blw3RGYpWkSByi_T7Rygb"]}
    """, "s", "tube")
    assert got == ("POST", f"/push/identities/{YT}/youtube/channel/section.json", {
        "request": {"push": {"channel": {"section": {
            "type": "multiplePlaylists", "style": "horizontalRow", "title": "Favourites",
            "position": 2, "defaultLanguage": "en",
            "playlists": ["PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", "PLbpi6ZahtOH6Blw3RGYpWkSByi_T7Rygb"],
        }}}}})


# -- Facebook posts with media: uploads first, create_post false, Ref placeholders -----------

MEDIA_POST = """
    posts:
      - {id: m, at: "2026-12-01 09:00", to: [fb-profile, fb-page, fb-group],
         message: "With media", media: [photo, clip]}
"""


@pytest.mark.parametrize(("account", "base", "target", "key"), [
    ("fb-profile", "facebook", {}, None),
    ("fb-page", "facebook/page", {"id": "4563453"}, "page"),
    ("fb-group", "facebook/group", {"id": "77120034"}, "group"),
])
def test_facebook_post_with_media_uploads_without_posting_then_attaches(
        account: str, base: str, target: dict[str, str], key: str | None) -> None:
    requests = rendered(MEDIA_POST, "m", account)
    prefix = f"/push/identities/{FB}/{base}"

    def push(default: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"request": {"push": {key or default: {**target, **payload}}}}

    assert [(r.step, r.endpoint, r.method, r.path, wire(r.body)) for r in requests] == [
        ("upload photo", f"{base}/picture", "POST", f"{prefix}/picture.json",
         push("picture", {"url": "https://cdn.example.com/photo.jpg", "description": "A photo",
                          "create_post": False})),
        ("upload clip", f"{base}/video", "POST", f"{prefix}/video.json",
         push("video", {"url": "https://cdn.example.com/clip.mp4", "description": "A short clip",
                        "create_post": False})),
        ("publish", f"{base}/post", "POST", f"{prefix}/post.json",
         push("post", {"message": "With media", "attachments": [
             "<picture_id from upload photo>", "<video_id from upload clip>"]})),
    ]
    assert [r.result_field for r in requests] == ["picture_id", "video_id", "post_id"]


def test_exact_page_upload_sequence_written_out() -> None:
    # The parametrised test above composes its bodies; this one spells a whole sequence out.
    requests = rendered(MEDIA_POST, "m", "fb-page")
    assert [wire(r.body) for r in requests] == [
        {"request": {"push": {"page": {"id": "4563453", "url": "https://cdn.example.com/photo.jpg",
                                       "description": "A photo", "create_post": False}}}},
        {"request": {"push": {"page": {"id": "4563453", "url": "https://cdn.example.com/clip.mp4",
                                       "description": "A short clip", "create_post": False}}}},
        {"request": {"push": {"page": {"id": "4563453", "message": "With media",
                                       "attachments": ["<picture_id from upload photo>",
                                                       "<video_id from upload clip>"]}}}},
    ]


def test_fill_replaces_refs_with_the_ids_the_uploads_returned() -> None:
    publish = rendered(MEDIA_POST, "m", "fb-page")[-1]
    assert publish.body["request"]["push"]["page"]["attachments"] == [
        Ref("upload photo", "picture_id"), Ref("upload clip", "video_id")]
    filled = fill(publish.body, {"upload photo": {"picture_id": "10213097383563000"},
                                 "upload clip": {"video_id": "10213097383563001"}})
    assert filled == {"request": {"push": {"page": {
        "id": "4563453", "message": "With media",
        "attachments": ["10213097383563000", "10213097383563001"]}}}}
    assert "Ref" not in json.dumps(filled)


def test_fill_without_the_needed_result_raises_instead_of_sending_a_placeholder() -> None:
    publish = rendered(MEDIA_POST, "m", "fb-page")[-1]
    with pytest.raises(KeyError):
        fill(publish.body, {"upload photo": {"picture_id": "1"}})


def test_fill_and_shown_leave_bodies_without_refs_unchanged() -> None:
    body = {"request": {"push": {"post": {"message": "x", "n": 3, "ok": False, "ids": ("a", "b")}}}}
    expected = {"request": {"push": {"post": {"message": "x", "n": 3, "ok": False, "ids": ["a", "b"]}}}}
    assert fill(body, {}) == expected
    assert shown(body) == expected


def test_shown_gives_readable_placeholders() -> None:
    assert shown({"a": [Ref("upload photo", "picture_id")]}) == {"a": ["<picture_id from upload photo>"]}
    assert str(Ref("upload clip", "video_id")) == "<video_id from upload clip>"


def test_render_does_not_change_the_calendar() -> None:
    cal = calendar(MEDIA_POST)
    first = render(cal, cal.entries["m"], cal.accounts["fb-page"])
    second = render(cal, cal.entries["m"], cal.accounts["fb-page"])
    assert first == second


# -- Overrides per account -------------------------------------------------------------------

def test_overrides_change_only_their_account() -> None:
    entries = """
        posts:
          - id: launch
            at: "2026-12-01 09:00"
            to: [fb-page, x, li-company]
            message: "It's here: our Winter Blend."
            overrides:
              x: {message: "Winter Blend is out", link: "https://example.com/w"}
              li-company: {message: "Company: Winter Blend", media: [plain], title: "Winter"}
    """
    assert one(entries, "launch", "fb-page")[2] == {"request": {"push": {"page": {
        "id": "4563453", "message": "It's here: our Winter Blend."}}}}
    assert one(entries, "launch", "x")[2] == {"request": {"push": {"post": {
        "message": "Winter Blend is out https://example.com/w"}}}}
    assert one(entries, "launch", "li-company")[2] == {"request": {"push": {"post": {
        "company": "10442391", "message": "Company: Winter Blend", "title": "Winter",
        "picture": "https://cdn.example.com/plain.png"}}}}


def test_override_of_media_changes_the_uploads_for_that_account_only() -> None:
    entries = """
        posts:
          - id: pics
            at: "2026-12-01 09:00"
            to: [fb-page, x]
            message: "Pictures"
            media: [photo]
            overrides:
              x: {media: [plain]}
    """
    assert [(r.step, r.path) for r in rendered(entries, "pics", "x")] == [
        ("upload plain", f"/push/identities/{X}/twitter/picture.json"),
        ("publish", f"/push/identities/{X}/twitter/post.json")]
    assert [(r.step, r.path) for r in rendered(entries, "pics", "fb-page")] == [
        ("upload photo", f"/push/identities/{FB}/facebook/page/picture.json"),
        ("publish", f"/push/identities/{FB}/facebook/page/post.json")]


def test_unicode_text_is_kept_as_written() -> None:
    got = one("""
        posts:
          - {id: p, at: "2026-12-01 09:00", to: [fb-page], message: "Grüße ☕❄️ 🎉"}
    """, "p", "fb-page")
    assert got[2] == {"request": {"push": {"page": {"id": "4563453", "message": "Grüße ☕❄️ 🎉"}}}}


@pytest.mark.parametrize("key", sorted(ENDPOINTS))
def test_the_table_writes_and_reads_each_envelope_the_same_way(key: str) -> None:
    endpoint = ENDPOINTS[key]
    body = endpoint.wrap({"x": 1})
    assert endpoint.fields_of(body) == {"x": 1}
    assert list(body) == ["request"] and list(body["request"]) == ["push"]
    assert endpoint.nesting[2:] == endpoint.object_key
