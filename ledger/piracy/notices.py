"""Takedown notices drafted from a case, in the formats platforms take.

`cn-notice` is a 通知-删除 letter with what Article 14 of the 信息网络传播权保护条例 asks of a
notice: the right holder's name and address, the work and the infringing address, and
preliminary proof; `dmca` is a notice with the elements of 17 U.S.C. § 512(c)(3), signed
`/s/ name` (an electronic signature, as 512(c)(3)(A) allows). Each is in its own language
throughout. Both name
the work's on-chain registration and the anchored evidence hash, which is the proof a
platform can check without asking us.

A copy of a derivative (a re-edit showing its parent's frames) is the derivative's: its notices
are sent by the derivative's rights holder for the derivative, and say that the ancestor's
footage in it is used under licence, so that no notice claims the ancestor's rights for a copy
of its licensed derivative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FORMATS = ("cn-notice", "dmca")
# A derivative's kind (ledger.choices.DerivativeKind) as each notice says it.
KINDS_ZH = {
    "re_edit": "二创剪辑",
    "dub": "配音",
    "subtitle": "字幕",
    "remake": "翻拍",
    "trailer": "预告片",
    "compilation": "合集",
}
KINDS_EN = {"re_edit": "re-edit", "dub": "dub", "subtitle": "subtitled version", "remake": "remake"}


@dataclass(frozen=True)
class Draft:
    format: str
    language: str
    subject: str
    body: str


def _when(text: str) -> str:
    return text.replace("T", " ").split(".")[0].removesuffix("+00:00") + " UTC"


def short_id(work_id: str) -> str:
    """A work id as people tell two works of one title apart: 0x1234…abcd."""
    return f"{work_id[:6]}…{work_id[-4:]}" if len(work_id) > 12 else work_id


def _match_lines(match: dict[str, Any], copy_media: str | None, work_media: str | None) -> tuple[str, str]:
    """What the fingerprint comparison found, in each language. A still matches a picture, not a
    stretch of time: it names the work's frame it shows (a video's) or the work's picture; a
    video decided on its first seconds says so, and that the duration is the least that agrees."""
    if copy_media == "image":
        if work_media == "video" or match["offset_seconds"] > 0:
            at = match["offset_seconds"]
            return f"该图片与作品第 {at:.1f} 秒的画面一致", f"The picture matches the work's frame at {at:.1f} s"
        return "该图片与作品画面一致", "The picture matches the work's picture"
    compared_zh, least_zh, compared_en, least_en = "", "", "Their ", ""
    if match.get("whole_copy_compared") is False:  # decided on the copy's first seconds; the rest was not compared
        seconds = match["seconds_compared"]
        compared_zh, least_zh = f"比对副本的前 {seconds:.1f} 秒，", "至少"
        compared_en, least_en = f"Compared over the copy's first {seconds:.1f} s, their ", " at least"
    offset, duration = match["offset_seconds"], match["duration_seconds"]
    zh = f"{compared_zh}与作品第 {offset:.1f} 秒起的{least_zh} {duration:.1f} 秒内容一致"
    en = f"{compared_en}perceptual fingerprint matches{least_en} {duration:.1f} s of the work from {offset:.1f} s on"
    return zh, en


def _derivative_lines(work: dict[str, Any], source: dict[str, Any] | None) -> tuple[str, str]:
    """What a derivative's notice says of the ancestor whose footage the copy shows (the
    bundle's `derivative_of`): a licensed source, whose rights the notice does not claim."""
    if source is None:
        return "", ""
    licence, kind = source["licence"], source["kind"]
    chain_id = licence.get("chain_licence_id")
    on_chain_zh = f"，链上许可 {chain_id}" if chain_id is not None else ""
    on_chain_en = f", licence {chain_id} on chain" if chain_id is not None else ""
    zh = (
        f"\n被侵权作品《{work['title']}》为《{source['title']}》（作品标识 {source['work_id']}）的衍生作品"
        f"（{KINDS_ZH.get(kind, kind)}），经其权利人许可（许可 {licence['id']}{on_chain_zh}）制作，"
        f"其中《{source['title']}》的画面属许可使用。本通知仅就《{work['title']}》主张权利。"
    )
    en = (
        f'\n   "{work["title"]}" is a derivative ({KINDS_EN.get(kind, kind)}) of "{source["title"]}" '
        f"(work id {source['work_id']}), made under licence {licence['id']}{on_chain_en} from its rights holder; "
        f'the footage of "{source["title"]}" it shows is licensed. This notice concerns "{work["title"]}" only.'
    )
    return zh, en


def draft(
    bundle: dict[str, Any],
    evidence_hash: str,
    owner_name: str,
    owner_address: str,
    case_id: int,
    evidence_registry: str | None = None,
    counter_notice_url: str | None = None,
    work_media: str | None = None,
) -> list[Draft]:
    """`evidence_registry`, where the bundle's hash is anchored, is named so that a recipient
    can check the anchor without asking anyone (EvidenceRegistry.anchorOf); `counter_notice_url`
    is where the recipient answers the notice (反通知, DMCA 512(g)) without an account;
    `work_media` ("video" or "image") says whether a still's match names a frame of the work."""
    work, match, mark = bundle["work"], bundle["match"], bundle["watermark"]
    anchored_zh, anchored_en = "链上存证合约", "on chain"
    if evidence_registry:
        anchored_zh = f"链上存证合约 {evidence_registry}（链 {work['chain_id']}）"
        anchored_en = f"on chain {work['chain_id']} in the evidence registry {evidence_registry}"
    seen = _when(bundle["fetched_at"])
    registry = f"{work['registry']} (chain {work['chain_id']})" if work.get("registry") else f"chain {work['chain_id']}"
    registered_zh = (
        f"登记于合约 {work['registry']}（链 {work['chain_id']}）"
        if work.get("registry")
        else f"登记于链 {work['chain_id']}"
    )
    leak_zh = leak_en = ""
    if mark.get("distribution"):
        platform = mark["distribution"]["platform"]["name"]
        leak_zh = f"\n经隐形水印（载荷 {mark['payload']}）识别，该副本源自发行给“{platform}”的版本。"
        leak_en = (  # a line of item 2, indented as the item's other lines
            f"\n   Its invisible watermark (payload {mark['payload']}) identifies the copy distributed to {platform}."
        )
    page = bundle.get("page_url") or bundle["url"]
    derived_zh, derived_en = _derivative_lines(work, bundle.get("derivative_of"))
    counter_zh = counter_en = ""
    if counter_notice_url:
        counter_zh = (
            f"\n如认为上述内容不构成侵权，可依《民法典》第一千一百九十六条在此提交反通知：{counter_notice_url}\n"
        )
        counter_en = f"\nA counter-notification under 17 U.S.C. § 512(g)(3) may be filed at {counter_notice_url}\n"
    matched_zh, matched_en = _match_lines(match, bundle["content"].get("media_kind"), work_media)
    zh = Draft(
        "cn-notice",
        "zh-CN",
        f"通知-删除：《{work['title']}》（作品 {short_id(work['work_id'])}）侵权链接（案件 {case_id}）",
        f"""致相关网络服务提供者：

根据《信息网络传播权保护条例》第十四条，权利人现就下列侵权内容发出通知，请删除该内容或断开其链接。

一、权利人
名称：{owner_name}
链上地址：{owner_address}

二、被侵权作品
名称：《{work["title"]}》
作品登记：作品标识 {work["work_id"]}，{registered_zh}，登记交易 {work.get("registration_tx") or "—"}{derived_zh}

三、侵权内容的网络地址
{bundle["url"]}
所在页面：{page}
发现时间：{seen}

四、构成侵权的初步证明材料
所下载内容的 SHA-256：{bundle["content"]["sha256"]}（{bundle["content"]["size"]} 字节）
指纹比对：{matched_zh}（置信度 {match["confidence"]:.2f}）。{leak_zh}
证据包 SHA-256：{evidence_hash}，已在{anchored_zh}中锚定，任何人均可重新计算证据包哈希并与链上记录核对。

权利人保证上述通知内容真实，并对其真实性承担法律责任。
{counter_zh}
{owner_name}
""",
    )
    en = Draft(
        "dmca",
        "en",
        f"DMCA takedown notice: {work['title']} (work {short_id(work['work_id'])}, case {case_id})",
        f"""To the designated agent:

1. Copyrighted work: "{work["title"]}", registered under work id {work["work_id"]} in {registry}, registration transaction {work.get("registration_tx") or "-"}.{derived_en}

2. Infringing material: {bundle["url"]}
   found on page {page} at {seen}.
   The bytes fetched have SHA-256 {bundle["content"]["sha256"]} ({bundle["content"]["size"]} bytes). {matched_en} (confidence {match["confidence"]:.2f}).{leak_en}
   The evidence bundle, SHA-256 {evidence_hash}, is anchored {anchored_en}; anyone can re-hash the bundle and check it against the chain.

3. Please remove or disable access to the material at the address above.

4. Complaining party: {owner_name}, on-chain address {owner_address}.

I have a good faith belief that use of the material in the manner complained of is not authorized by the copyright owner, its agent, or the law.
The information in this notification is accurate, and under penalty of perjury, I am authorized to act on behalf of the owner of an exclusive right that is allegedly infringed.
{counter_en}
/s/ {owner_name}
""",
    )
    return [zh, en]
