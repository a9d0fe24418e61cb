"""Word pools the sample archive draws its documents from (constants only)."""

from __future__ import annotations

PEOPLE = (
    "Stalin, Joseph", "Kim Il Sung", "Mao Zedong", "Zhou Enlai", "Molotov, Vyacheslav",
    "Shtykov, Terentii Fomich", "Vyshinsky, Andrey", "Khrushchev, Nikita Sergeevich",
    "Gromyko, Andrei Andreevich", "Ulbricht, Walter", "Rákosi, Mátyás", "Gomułka, Władysław",
    "Nagy, Imre", "Ho Chi Minh", "Liu Shaoqi", "Peng Dehuai", "Kennedy, John F. (John Fitzgerald)",
    "Brezhnev, Leonid Ilyich", "Castro, Fidel", "Tito, Josip Broz", "Deng Xiaoping",
    "Park, Chung Hee", "Rhee, Syngman", "Honecker, Erich", "Ceaușescu, Nicolae",
    "Kissinger, Henry", "Mikoyan, Anastas Ivanovich", "Bulganin, Nikolai Aleksandrovich",
)

CORRESPONDENTS = (
    "Feng Xi [Stalin]", "Soviet Ambassador in Pyongyang Shtykov", "Kim Il Sung", "Mao Zedong",
    "Zhou Enlai", "Vyshinsky", "the CPSU Central Committee", "the Chinese Foreign Ministry",
    "the Hungarian Embassy in Pyongyang", "the Polish Embassy in Beijing", "Gromyko",
    "the GDR Ministry of Foreign Affairs", "Khrushchev", "Ulbricht", "Rákosi", "Gomułka",
    "the Soviet Embassy in Hanoi", "Pak Hon-yong", "Peng Dehuai", "the US Department of State",
)

ORGS = (
    "Politburo of the CPSU CC", "Central Committee of the Korean Workers' Party",
    "Warsaw Pact Political Consultative Committee", "Chinese Communist Party Central Committee",
    "Council of Ministers of the USSR", "Hungarian Socialist Workers' Party",
    "Socialist Unity Party of Germany", "National Security Council",
)

TOPICS = (
    "the Korean War", "the Armistice Negotiations", "Military Assistance", "the Taiwan Strait",
    "Nuclear Cooperation", "the Situation in Hungary", "Economic Aid", "the Sino-Soviet Split",
    "the Berlin Question", "Border Incidents", "the Geneva Conference", "Prisoners of War",
    "the Vietnam Conflict", "Chemical Weapons Allegations", "the Cuban Missile Crisis",
    "Trade Relations & Credits", "the Non-Aligned Movement", "Cultural Exchange",
)

TYPES = (
    "Telegram", "Memorandum of Conversation", "Letter", "Report", "Minutes", "Diary Entry",
    "Cable", "Speech", "Meeting Minutes", "Intelligence Report",
)

PLACES = (
    "Korea (North)", "Korea (South)", "China", "Russia (Federation) / Soviet Union",
    "Germany (East)", "Hungary", "Poland", "Vietnam", "Cuba", "Taiwan", "Japan", "Mongolia",
    "United States", "Yugoslavia", "Czechoslovakia", "Romania", "India", "Indonesia",
)

SUBJECTS = (
    "Korean War, 1950-1953", "Military strategy", "Nuclear weapons", "Diplomacy",
    "Economic assistance", "Sino-Soviet relations", "Prisoners of war", "Propaganda",
    "Arms control", "Intelligence", "Decolonization", "Communist parties", "Espionage",
    "Warsaw Pact", "Cold War history", "Refugees",
)

ARCHIVES = (
    "Archive of the President of the Russian Federation (APRF)",
    "Archive of Foreign Policy of the Russian Federation (AVP RF)",
    "Russian State Archive of Socio-Political History (RGASPI)",
    "PRC Foreign Ministry Archive", "Hungarian National Archives (MOL)",
    "Archiwum Akt Nowych (AAN)", "Political Archive of the Federal Foreign Office, Berlin",
    "National Archives and Records Administration (NARA)", "Diplomatic Archives of Korea",
)

SOURCE_TEMPLATES = (
    "APRF, f. 45, op. 1, d. {a}, l. {b}; AVP RF, f. 059a, op. 5a, d. 3, p. 11, l. {c}.",
    "RGASPI, f. 558, op. 11, d. {a}, ll. {b}-{c}. Translated by Gary Goldberg.",
    "PRC FMA {a}-0{b}-0{c}. Translated by Charles Kraus.",
    "MOL, XIX-J-1-j Korea, {a}. doboz, {b}/1955, {c}. Obtained and translated by Balázs Szalontai.",
    "AAN, KC PZPR, XI A/{a}, k. {b}-{c}. Translated for CWIHP by Margaret Gnoinska.",
    "PA AA, MfAA, A {a}, pp. {b}-{c}. Translated by Bernd Schaefer.",
)

DONORS = (
    "Leon Levy Foundation", "Carnegie Corporation of New York", "MacArthur Foundation",
    "Korea Foundation", "Henry Luce Foundation", "Chun & Tai Family Foundation",
    "Ministry of Unification (Republic of Korea)",
)

CREDIT_LINES = (
    "This document was made possible with support from the Leon Levy Foundation.",
    "This document was made possible with support from Carnegie Corporation of New York (CCNY).",
    "This document was made possible with support from the MacArthur Foundation.",
    "This document was made possible with support from the Korea Foundation and the Chun & Tai"
    " Family Foundation.",
)

CLASSIFICATIONS = ("Top Secret", "Secret", "Confidential", "Strictly Secret", "For Official Use")

CONTRIBUTORS = ("Sergey Radchenko", "James Person", "Charles Kraus", "Kathryn Weathersby")

GENERIC_TITLES = (
    "Memorandum of Conversation",
    "Record of a Conversation",
    "Telegram to Moscow",
    "Excerpt from the Diary",
    "Untitled Note",
)

ENGLISH = (
    "the", "Soviet", "government", "considers", "it", "necessary", "to", "inform", "you", "that",
    "delegation", "has", "agreed", "on", "question", "of", "military", "assistance", "Korean",
    "comrades", "request", "additional", "ammunition", "and", "equipment", "situation", "at",
    "front", "remains", "difficult", "in", "our", "opinion", "attack", "must", "continue",
    "American", "planes", "territory", "leaders", "report", "immediately", "about", "plans",
    "negotiations", "armistice", "Chinese", "volunteers", "Party", "Central", "Committee",
    "decided", "fulfill", "deliveries", "by", "July", "embassy", "ministry", "copies", "were",
    "sent", "with", "regard", "treaty", "friendship", "cooperation", "was", "discussed",
)

RUSSIAN = (
    "советское", "правительство", "считает", "необходимым", "сообщить", "вам", "что",
    "делегация", "согласилась", "по", "вопросу", "военной", "помощи", "корейские", "товарищи",
    "просят", "дополнительно", "боеприпасы", "и", "вооружение", "положение", "на", "фронте",
    "остается", "трудным", "по-нашему", "мнению", "наступление", "должно", "продолжаться",
    "американские", "самолеты", "территорию", "руководители", "доложите", "немедленно",
    "о", "планах", "переговоры", "перемирие", "ЦК", "КПСС", "посольство", "министерство",
)

GERMAN = (
    "die", "Regierung", "der", "DDR", "hält", "es", "für", "notwendig", "mitzuteilen", "dass",
    "Delegation", "über", "Frage", "militärischen", "Hilfe", "Genossen", "bitten", "um",
    "zusätzliche", "Ausrüstung", "Lage", "an", "Front", "bleibt", "schwierig", "Botschaft",
    "Ministerium", "Verhandlungen", "Waffenstillstand", "Zentralkomitee", "beschlossen",
)

HUNGARIAN = (
    "a", "magyar", "kormány", "szükségesnek", "tartja", "közölni", "hogy", "küldöttség",
    "kérdésében", "katonai", "segítség", "koreai", "elvtársak", "kérik", "felszerelést",
    "helyzet", "fronton", "nehéz", "nagykövetség", "minisztérium", "tárgyalások", "fegyverszünet",
)

CHINESE = (
    "中国", "人民", "志愿军", "政府", "认为", "必须", "通知", "你们", "代表团", "同意",
    "关于", "军事", "援助", "问题", "朝鲜", "同志", "要求", "补充", "弹药", "装备", "前线",
    "情况", "仍然", "困难", "我们", "意见", "进攻", "继续", "美国", "飞机", "领导人", "报告",
    "谈判", "停战", "中央", "委员会", "决定", "大使馆", "外交部",
)

KOREAN = (
    "조선", "인민", "정부는", "필요하다고", "생각합니다", "대표단은", "군사", "원조", "문제에",
    "관하여", "동의하였다", "동지들은", "탄약과", "장비를", "요청합니다", "전선의", "정세는",
    "여전히", "어렵다", "우리의", "의견으로는", "공격은", "계속되어야", "한다", "미국",
    "비행기", "지도자들", "보고", "협상", "정전", "중앙위원회", "대사관", "외무성",
)

LANGUAGE_WORDS = {
    "English": ENGLISH,
    "Russian": RUSSIAN,
    "German": GERMAN,
    "Hungarian": HUNGARIAN,
    "Chinese": CHINESE,
    "Korean": KOREAN,
}

# languages whose sentences are written without spaces between words
UNSPACED = frozenset({"Chinese"})

RIGHTS_P1 = (
    "The History and Public Policy Program welcomes reuse of Digital Archive materials for"
    " research and educational purposes. Some documents may be subject to copyright, which is"
    " retained by the rights holders in accordance with US and international copyright laws."
    " When possible, rights holders have been contacted for permission to reproduce their"
    " materials."
)
RIGHTS_P2_PREFIX = (
    "To enquire about this document's rights status or request permission for commercial use,"
    " please contact the History and Public Policy Program at"
)
RIGHTS_EMAIL = "HAPP@wilsoncenter.org"

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
