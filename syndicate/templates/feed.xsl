<?xml version="1.0" encoding="UTF-8"?>
<!-- Shows an RSS or Atom feed as a readable page in a browser, so that a
     visitor who clicks a feed link learns what to do with it. -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"
    doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
  <xsl:variable name="self"
    select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>
  <xsl:variable name="home"
    select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
  <xsl:variable name="lang" select="/rss/channel/language | /atom:feed/@xml:lang"/>

  <xsl:template match="/">
    <html lang="{$lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> · 订阅源</title>
        <style>
          body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.6}
          .note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.75rem 1rem}
          code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
          li{margin:.6rem 0}
          small{color:#57606a}
          a{color:#0969da}
        </style>
      </head>
      <body>
        <div class="note" id="feed-note">
          <strong>这是一个订阅源（RSS/Atom feed）。</strong>
          复制下面的地址到你的阅读器即可订阅。
          <br/>This is a feed: copy this address into your feed reader.
          <br/><code id="feed-url"><xsl:value-of select="$self"/></code>
        </div>
        <h1 id="feed-title"><xsl:value-of select="$title"/></h1>
        <p><a href="{$home}">访问网站 Visit the site →</a></p>
        <ol id="feed-items">
          <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
        </ol>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <a href="{link}"><xsl:value-of select="title"/></a>
      <br/><small><xsl:value-of select="pubDate"/></small>
    </li>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a>
      <br/><small><xsl:value-of select="atom:published"/></small>
    </li>
  </xsl:template>
</xsl:stylesheet>
