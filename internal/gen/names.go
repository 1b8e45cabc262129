package gen

import "strings"

// The word lists below are constants split per run, so that the package keeps
// no mutable state. Names are common given names and surnames, most frequent
// first: the generators draw them with a Zipf long tail, so that Smiths and
// Johnsons are common and the tail is rare, as in a real directory.

const firstNamesText = `James Mary Michael Patricia Robert Jennifer John Linda David Elizabeth William Barbara
Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy Matthew Betty Anthony Sandra
Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian
Melissa Timothy Deborah Ronald Stephanie George Dorothy Jason Rebecca Edward Sharon Jeffrey Laura Ryan Cynthia Jacob
Amy Nicholas Kathleen Gary Angela Eric Shirley Jonathan Brenda Stephen Emma Larry Anna Justin Pamela Scott Nicole
Brandon Samantha Benjamin Katherine Samuel Christine Gregory Helen Alexander Debra Patrick Rachel Frank Carolyn
Raymond Janet Jack Maria Dennis Catherine Jerry Heather Tyler Diane Aaron Olivia Jose Julie Adam Joyce Nathan
Victoria Henry Ruth Zachary Virginia Douglas Lauren Peter Kelly Kyle Christina Noah Joan Ethan Evelyn Jeremy Judith
Christian Andrea Walter Hannah Keith Megan Austin Cheryl Roger Jacqueline Terry Martha Sean Madison Gerald Teresa
Carl Gloria Dylan Sara Harold Janice Jordan Ann Jesse Kathryn Bryan Abigail Lawrence Sophia Arthur Frances Gabriel
Jean Bruce Alice Logan Judy Billy Isabella Joe Julia Alan Grace Juan Amber Elijah Denise Willie Danielle Albert
Marilyn Wayne Beverly Randy Charlotte Mason Natalie Vincent Theresa Liam Diana Roy Brittany Bobby Doris Caleb Kayla
Bradley Alexis Russell Lori Lucas Marie Luis Carlos Miguel Ahmed Wei Priya Mohammed Aisha Hiroshi Mei Rafael Fatima`

const lastNamesText = `Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez
Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera
Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris
Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel
Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales
Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole
Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez
McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson
Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson
Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver
Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley
Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins
Hoffman Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval Okafor Nakamura Singh Kowalski`

// teamFunctionsText lists the functions of assignment groups, most common first.
const teamFunctionsText = `Service Desk|Desktop Support|Network Operations|Server Operations|Identity and Access
Management|Application Support|Database Administration|Messaging and Collaboration|Cyber Defense Operations|Cloud
Platform|Storage and Backup|Telecommunications|Field Services|Enterprise Monitoring|Change and Release|Mobile Devices|
Voice over IP|Web Hosting|Middleware|Mainframe Operations|ERP Support|Logistics Systems|Financial Systems|Personnel
Systems|Medical Systems|Tactical Communications|Data Center Facilities|Print Services|Video Teleconferencing|Directory
Services|Endpoint Security|Vulnerability Management|Public Key Infrastructure|Wireless Networks|Satellite
Communications|Geospatial Services|Software Distribution|Asset Management|Knowledge Management|Problem Management|
Continuity Planning|Capacity Planning|DevSecOps Pipeline|Container Platform|Data Analytics|Records Management|
SharePoint Support|Training Systems|Classified Networks|Coalition Networks`

// sitesText lists the locations assignment groups serve.
const sitesText = `HQ|Pacific|Europe|Central|Atlantic|Southwest|Northeast|Gulf Coast|Rocky Mountain|Alaska|
Hawaii|Korea|Japan|Germany|Italy|Middle East|Africa|Caribbean|Great Lakes|Mid-Atlantic|Northwest|Southeast|
National Capital Region|Mountain West|Plains|Texas|California|Virginia Beach|San Diego|Colorado Springs|Fort Meade|
Scott AFB|Tinker|Pearl Harbor|Ramstein|Naples|Bahrain|Djibouti|Guam|Okinawa`

// lines splits one of the lists above.
func lines(text, sep string) []string {
	var out []string
	for _, f := range strings.Split(strings.ReplaceAll(text, "\n", " "), sep) {
		if f = strings.Join(strings.Fields(f), " "); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// slug turns a name into lower-case words joined by dashes, for e-mail addresses.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
