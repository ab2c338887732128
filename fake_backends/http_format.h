// Hand-formatted HTTP/1.1 response framing for the fake backend: status line,
// headers, chunked transfer coding. Kept apart from proxy/core/http on
// purpose (the fake is an independent oracle).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llmproxy::fake {

std::string_view reason_phrase(int status);

// "HTTP/1.1 200 OK\r\n"
void append_status_line(std::string& out, int status);
// "Name: value\r\n"
void append_header(std::string& out, std::string_view name, std::string_view value);
void append_header(std::string& out, std::string_view name, std::size_t value);

// One chunk of the chunked transfer coding: "<hex size>\r\n<data>\r\n".
// Empty data is skipped (an empty chunk would end the body).
void append_chunk(std::string& out, std::string_view data);
// Appends a chunk header for `size` bytes of data that follow ("<hex>\r\n").
void append_chunk_header(std::string& out, std::size_t size);
inline constexpr std::string_view kChunkTrailer = "\r\n";  // after the data
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace llmproxy::fake
